//! HTTP Basic authentication against a server's configured username and password.

use base64::Engine;

use super::sha1::sha1_hex;
use crate::config::model::Credentials;

/// Outcome of checking one request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    Allowed,
    /// Missing header, other scheme, wrong user or password: 401.
    Denied,
    /// Basic credentials that cannot be decoded (bad base64, no `:`, not UTF-8). The reference
    /// answers these with a 500 because its decoder raises; we keep that status.
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
    // Like Python's lenient base64 decoder: characters outside the alphabet are ignored.
    let cleaned: Vec<u8> = encoded
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        .collect();
    let Ok(decoded) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&cleaned) else {
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
            (&plain, Some(b"Basic dXNlcjpzZWNyZXQ"), AuthOutcome::Allowed),
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
