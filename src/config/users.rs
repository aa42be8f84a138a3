//! Users and groups resolved by reading /etc/passwd and /etc/group directly (no NSS, so the
//! binary can be static). Numeric ids are accepted when they exist in those files.

use super::model::User;

/// One /etc/passwd entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: Option<String>,
}

/// One /etc/group entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f.get(5).map(|h| h.to_string()),
            })
        })
        .collect()
}

pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn passwd() -> Vec<PasswdEntry> {
    parse_passwd(&std::fs::read_to_string("/etc/passwd").unwrap_or_default())
}

fn groups() -> Vec<GroupEntry> {
    parse_group(&std::fs::read_to_string("/etc/group").unwrap_or_default())
}

/// Python `int()` of a user/group spec (surrounding whitespace allowed); a number past the i64
/// range counts as no number, as for the other integer options (`values::integer`).
fn numeric_id(s: &str) -> Option<Result<u32, ()>> {
    crate::python::int(s, 10)
        .and_then(|n| i64::try_from(n).ok())
        .map(|n| u32::try_from(n).map_err(|_| ()))
}

/// A user with home directory (for `~user` expansion).
#[derive(Debug, Clone)]
pub struct UserInfo {
    pub user: User,
    pub home: Option<String>,
}

pub fn lookup_user_by_name(name: &str) -> Option<UserInfo> {
    passwd()
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| UserInfo {
            user: User {
                name: Some(e.name),
                uid: e.uid,
                gid: Some(e.gid),
            },
            home: e.home,
        })
}

/// `name_to_uid`: a name or a numeric uid, which must exist in /etc/passwd.
pub fn lookup_user(spec: &str) -> Result<UserInfo, String> {
    resolve_user(spec, &passwd())
}

pub fn resolve_user(spec: &str, entries: &[PasswdEntry]) -> Result<UserInfo, String> {
    let found = match numeric_id(spec) {
        Some(Ok(uid)) => entries.iter().find(|e| e.uid == uid),
        Some(Err(())) => None,
        None => entries.iter().find(|e| e.name == spec),
    };
    match found {
        Some(e) => Ok(UserInfo {
            user: User {
                name: Some(e.name.clone()),
                uid: e.uid,
                gid: Some(e.gid),
            },
            home: e.home.clone(),
        }),
        None if numeric_id(spec).is_some() => Err(format!("Invalid user id {spec}")),
        None => Err(format!("Invalid user name {spec}")),
    }
}

/// `name_to_gid`: a name or numeric gid, which must exist in /etc/group.
pub fn lookup_group(spec: &str) -> Result<u32, String> {
    resolve_group(spec, &groups())
}

pub fn resolve_group(spec: &str, entries: &[GroupEntry]) -> Result<u32, String> {
    match numeric_id(spec) {
        Some(Ok(gid)) if entries.iter().any(|e| e.gid == gid) => Ok(gid),
        Some(_) => Err(format!("Invalid group id {spec}")),
        None => entries
            .iter()
            .find(|e| e.name == spec)
            .map(|e| e.gid)
            .ok_or_else(|| format!("Invalid group name {spec}")),
    }
}

/// `colon_separated_user_group`: `user` or `user:group` -> (uid, gid); any failure is reported
/// as the reference's single message.
pub fn user_group(spec: &str) -> Result<(u32, Option<u32>), String> {
    let err = || format!("Invalid user:group definition {spec}");
    match spec.split_once(':') {
        None => lookup_user(spec)
            .map(|u| (u.user.uid, None))
            .map_err(|_| err()),
        Some((u, g)) => {
            let uid = lookup_user(u).map_err(|_| err())?.user.uid;
            let gid = lookup_group(g).map_err(|_| err())?;
            Ok((uid, Some(gid)))
        }
    }
}

/// Supplementary group ids of a user (groups listing it as a member), for setgroups at spawn.
pub fn supplementary_groups(user_name: &str) -> Vec<u32> {
    groups()
        .into_iter()
        .filter(|g| g.members.iter().any(|m| m == user_name))
        .map(|g| g.gid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n# c\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nbad line\nweb:x:1000:1001::/home/web:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nnogroup:x:65534:\nweb:x:1001:alice,web\n";

    #[test]
    fn users_by_name_and_id() {
        let pw = parse_passwd(PASSWD);
        assert_eq!(pw.len(), 3);
        let cases: &[(&str, Result<u32, &str>)] = &[
            ("root", Ok(0)),
            ("web", Ok(1000)),
            ("1000", Ok(1000)),
            (" 0 ", Ok(0)),
            ("nosuch", Err("Invalid user name nosuch")),
            ("4242", Err("Invalid user id 4242")),
            ("-1", Err("Invalid user id -1")),
        ];
        for (spec, want) in cases {
            assert_eq!(
                resolve_user(spec, &pw).map(|u| u.user.uid),
                want.map_err(|e| e.to_string()),
                "{spec}"
            );
        }
        assert_eq!(resolve_user("web", &pw).unwrap().user.gid, Some(1001));
        assert_eq!(
            resolve_user("web", &pw).unwrap().home.as_deref(),
            Some("/home/web")
        );
    }

    #[test]
    fn groups_by_name_and_id() {
        let gr = parse_group(GROUP);
        let cases: &[(&str, Result<u32, &str>)] = &[
            ("nogroup", Ok(65534)),
            ("1001", Ok(1001)),
            ("nosuch", Err("Invalid group name nosuch")),
            ("4242", Err("Invalid group id 4242")),
        ];
        for (spec, want) in cases {
            assert_eq!(
                resolve_group(spec, &gr),
                want.map_err(|e| e.to_string()),
                "{spec}"
            );
        }
        assert_eq!(gr[2].members, ["alice", "web"]);
    }

    #[test]
    fn user_group_specs_on_this_system() {
        assert_eq!(user_group("root"), Ok((0, None)));
        assert_eq!(user_group("0:0"), Ok((0, Some(0))));
        assert_eq!(
            user_group("root:nosuchgroup-x"),
            Err("Invalid user:group definition root:nosuchgroup-x".to_string())
        );
    }
}
