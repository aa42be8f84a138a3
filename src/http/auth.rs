//! HTTP Basic authentication against a server's configured username and password.

use super::sha1::sha1_hex;
use crate::config::model::Credentials;

/// Outcome of checking one request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    Allowed,
    /// Missing header, other scheme, wrong user or password: 401.
    Denied,
    /// Basic credentials that cannot be decoded (bad base64, not UTF-8, no `:`): 400. The
    /// reference answers bad base64 and bad UTF-8 with 400 too, but a decoded text without `:`
    /// with a 500 (its unpacking raises); no client input may produce a 5xx here, so that is 400.
    Malformed,
}

/// Checks `authorization` (the raw header value, if any) against `credentials`.
pub fn check(credentials: &Credentials, authorization: Option<&[u8]>) -> AuthOutcome {
    let Some(value) = authorization else {
        return AuthOutcome::Denied;
    };
    let value = value.trim_ascii();
    let split = value.iter().position(|b| *b == b' ' || *b == b'\t');
    let Some(split) = split else {
        return AuthOutcome::Denied;
    };
    let (scheme, encoded) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return AuthOutcome::Denied;
    }
    let Some(decoded) = python_b64decode(encoded) else {
        return AuthOutcome::Malformed;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return AuthOutcome::Malformed;
    };
    let Some((user, password)) = decoded.split_once(':') else {
        return AuthOutcome::Malformed;
    };
    let user_ok = constant_time_eq(user.as_bytes(), credentials.username.as_bytes());
    let password_ok = password_matches(&credentials.password, password);
    if user_ok & password_ok {
        AuthOutcome::Allowed
    } else {
        AuthOutcome::Denied
    }
}

/// Python's lenient `base64.decodebytes` (binascii.a2b_base64, non-strict), which the reference
/// uses: characters outside the alphabet are skipped, a `=` ends the input once it completes a
/// quantum (it is ignored before the second character of one), and a quantum left unfinished
/// is an error ("Incorrect padding").
pub fn python_b64decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let (mut quad_pos, mut pads, mut left) = (0u32, 0u32, 0u32);
    for &c in input {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    return Some(out);
                }
            }
            continue;
        }
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        let value = u32::from(value);
        pads = 0;
        // Each byte is taken from the low 8 bits of the bits gathered so far (truncation meant).
        match quad_pos {
            0 => left = value,
            1 => {
                out.push(((left << 2) | (value >> 4)) as u8);
                left = value & 0x0f;
            }
            2 => {
                out.push(((left << 4) | (value >> 2)) as u8);
                left = value & 0x03;
            }
            _ => {
                out.push(((left << 6) | value) as u8);
                left = 0;
            }
        }
        quad_pos = (quad_pos + 1) % 4;
    }
    (quad_pos == 0).then_some(out)
}

/// `stored` is either plain text or `{SHA}` followed by the lowercase hex SHA-1 of the password.
pub fn password_matches(stored: &str, supplied: &str) -> bool {
    match stored.strip_prefix("{SHA}") {
        Some(hex) => constant_time_eq(sha1_hex(supplied.as_bytes()).as_bytes(), hex.as_bytes()),
        None => constant_time_eq(supplied.as_bytes(), stored.as_bytes()),
    }
}

/// Equality whose running time depends only on the lengths, so a guesser learns nothing from
/// timing about how many leading bytes were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    let longest = a.len().max(b.len());
    for i in 0..longest {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn creds(user: &str, password: &str) -> Credentials {
        Credentials {
            username: user.into(),
            password: password.into(),
        }
    }

    fn basic(user_pass: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
        .into_bytes()
    }

    #[test]
    fn outcomes() {
        let plain = creds("user", "secret");
        let hashed = creds("user", "{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4");
        let upper_hash = creds("user", "{SHA}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4");
        let colon_pass = creds("user", "se:cret");
        let cases: &[(&Credentials, Option<&[u8]>, AuthOutcome)] = &[
            (&plain, Some(&basic("user:secret")), AuthOutcome::Allowed),
            (
                &plain,
                Some(b"basic dXNlcjpzZWNyZXQ="),
                AuthOutcome::Allowed,
            ),
            (
                &plain,
                Some(b"BASIC   dXNlcjpzZWNyZXQ=  "),
                AuthOutcome::Allowed,
            ),
            // Python's decoder: unpadded is "Incorrect padding"; junk, leading or inner `=`
            // before a quantum's second character and anything after the padding are skipped.
            (
                &plain,
                Some(b"Basic dXNlcjpzZWNyZXQ"),
                AuthOutcome::Malformed,
            ),
            (
                &plain,
                Some(b"Basic dXNl cjpzZWNyZXQ="),
                AuthOutcome::Allowed,
            ),
            (
                &plain,
                Some(b"Basic dXNlcjpzZWNyZXQ====="),
                AuthOutcome::Allowed,
            ),
            (
                &plain,
                Some(b"Basic dXNlcjpzZWNyZXQ=x"),
                AuthOutcome::Allowed,
            ),
            (
                &plain,
                Some(b"Basic =dXNlcjpzZWNyZXQ="),
                AuthOutcome::Allowed,
            ),
            (
                &plain,
                Some(b"Basic dXNlcjpz=ZWNyZXQ="),
                AuthOutcome::Allowed,
            ),
            (&plain, Some(b"Basic ZGF0YQ=x"), AuthOutcome::Malformed),
            (&plain, Some(b"Basic //8="), AuthOutcome::Malformed),
            (&plain, Some(b"Basic AAAAA"), AuthOutcome::Malformed),
            (&plain, Some(b"Basic ==="), AuthOutcome::Malformed),
            (&plain, Some("Basic é".as_bytes()), AuthOutcome::Malformed),
            (&plain, Some(&basic("user:wrong")), AuthOutcome::Denied),
            (&plain, Some(&basic("other:secret")), AuthOutcome::Denied),
            (&plain, Some(&basic("user:secre")), AuthOutcome::Denied),
            (&plain, Some(&basic("user:secret2")), AuthOutcome::Denied),
            (&plain, Some(&basic("user:")), AuthOutcome::Denied),
            (&plain, None, AuthOutcome::Denied),
            (&plain, Some(b"Bearer abc"), AuthOutcome::Denied),
            (&plain, Some(b"Basic"), AuthOutcome::Denied),
            (&plain, Some(b"Basic dXNlcg=="), AuthOutcome::Malformed),
            (&plain, Some(b"Basic !!!!"), AuthOutcome::Malformed),
            (&plain, Some(b"Basic A"), AuthOutcome::Malformed),
            (&hashed, Some(&basic("user:secret")), AuthOutcome::Allowed),
            (
                &hashed,
                Some(&basic("user:{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4")),
                AuthOutcome::Denied,
            ),
            (&hashed, Some(&basic("user:Secret")), AuthOutcome::Denied),
            // The hex after {SHA} is compared case-sensitively, like the reference.
            (
                &upper_hash,
                Some(&basic("user:secret")),
                AuthOutcome::Denied,
            ),
            // Only the first ':' separates user from password.
            (
                &colon_pass,
                Some(&basic("user:se:cret")),
                AuthOutcome::Allowed,
            ),
        ];
        for (c, header, want) in cases {
            assert_eq!(
                check(c, *header),
                *want,
                "creds {:?} header {:?}",
                c,
                header.map(String::from_utf8_lossy)
            );
        }
    }

    #[test]
    fn constant_time_eq_matches_plain_equality() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a", b""),
            (b"abc", b"abc"),
            (b"abc", b"abd"),
            (b"abc", b"abcd"),
            (b"\0", b""),
        ];
        for (a, b) in cases {
            assert_eq!(constant_time_eq(a, b), a == b, "{a:?} vs {b:?}");
        }
    }
}
