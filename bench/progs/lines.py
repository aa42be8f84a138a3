"""Log benchmark child: writes argv[1] lines of 80 bytes ("%079d\n" % i), one unbuffered write each."""
import os
import sys

write = os.write
for i in range(int(sys.argv[1])):
    write(1, b"%079d\n" % i)
