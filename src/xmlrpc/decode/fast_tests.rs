//! Table-driven tests of the response fast path: the values it builds, the documents it leaves
//! to the full decoder, and that it never disagrees with the tree decoder.

use super::*;

fn s(x: &str) -> Value {
    Value::string(x)
}

fn resp(v: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>{v}</value>\n</param>\n</params>\n</methodResponse>\n"
    )
}

/// What the tree decoder makes of a response (the behaviour the fast path must keep).
fn tree(body: &str, opts: &DecodeOptions) -> Result<Result<Value, Value>, DecodeError> {
    strict::response(&parse_tree(body, opts)?)
}

#[test]
fn fast_path_builds_the_same_values() {
    let cases: Vec<(String, Result<Value, Value>)> = vec![
        (resp("<string>plain</string>"), Ok(s("plain"))),
        (resp("untyped"), Ok(s("untyped"))),
        (resp("  x  "), Ok(s("  x  "))),
        (resp(""), Ok(s(""))),
        ("<methodResponse><params><param><value/></param></params></methodResponse>".into(), Ok(s(""))),
        (resp("<string/>"), Ok(s(""))),
        (resp("<string></string>"), Ok(s(""))),
        (resp("  <string>a</string>  "), Ok(s("a"))),
        (resp("<int>-7</int>"), Ok(Value::Int(-7))),
        (resp("<i4> 42 </i4>"), Ok(Value::Int(42))),
        (resp("<i8>99999999999</i8>"), Ok(Value::Int(99999999999))),
        (resp("<boolean>0</boolean>"), Ok(Value::Bool(false))),
        (resp("<boolean>1</boolean>"), Ok(Value::Bool(true))),
        (resp("<double>1.5</double>"), Ok(Value::Double(1.5))),
        (resp("<double>-inf</double>"), Ok(Value::Double(f64::NEG_INFINITY))),
        (resp("<nil/>"), Ok(Value::Nil)),
        (resp("<nil></nil>"), Ok(Value::Nil)),
        (resp("<base64>\naGk=\n</base64>"), Ok(Value::Base64(b"hi".to_vec()))),
        (resp("<base64></base64>"), Ok(Value::Base64(Vec::new()))),
        (
            resp("<dateTime.iso8601> 20200102T03:04:05 </dateTime.iso8601>"),
            Ok(Value::DateTime("20200102T03:04:05".into())),
        ),
        (resp("<string>a&lt;&amp;&gt;&apos;&quot;b</string>"), Ok(s("a<&>'\"b"))),
        (resp("<string>&#65;&#x42;&#x1F600;&#233;</string>"), Ok(s("AB\u{1F600}é"))),
        (resp("&lt;untyped&gt;"), Ok(s("<untyped>"))),
        (resp("<string>tab\there\nünï</string>"), Ok(s("tab\there\nünï"))),
        (resp("<array><data></data></array>"), Ok(Value::Array(vec![]))),
        (resp("<array><data/></array>"), Ok(Value::Array(vec![]))),
        (resp("<struct></struct>"), Ok(Value::Struct(vec![]))),
        (
            resp(
                "<array><data>\n<value><array><data><value><int>1</int></value><value>x</value></data></array></value>\n<value><struct>\n<member>\n<name>k</name>\n<value><struct><member><name></name><value><nil/></value></member></struct></value>\n</member>\n</struct></value>\n</data></array>",
            ),
            Ok(Value::Array(vec![
                Value::Array(vec![Value::Int(1), s("x")]),
                Value::structure([("k", Value::structure([("", Value::Nil)]))]),
            ])),
        ),
        (
            resp(
                "<struct><member><name>a</name><value>1</value></member><member><name>a&amp;b</name><value><int>2</int></value></member><member><name>a</name><value/></member></struct>",
            ),
            Ok(Value::structure([
                ("a", s("1")),
                ("a&b", Value::Int(2)),
                ("a", s("")),
            ])),
        ),
        (
            crate::xmlrpc::encode_fault(10, "BAD_NAME: a<b"),
            Err(Value::structure([
                ("faultCode", Value::Int(10)),
                ("faultString", s("BAD_NAME: a<b")),
            ])),
        ),
        (
            "\n<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>\n\n".into(),
            Ok(Value::Int(1)),
        ),
        (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><params><param><value>v</value></param></params></methodResponse>".into(),
            Ok(s("v")),
        ),
    ];
    for (body, want) in cases {
        let opts = DecodeOptions::client();
        assert_eq!(fast::response(&body, &opts), Some(want.clone()), "{body}");
        assert_eq!(tree(&body, &opts), Ok(want), "tree: {body}");
    }
}

#[test]
fn fast_path_leaves_other_documents_to_the_full_decoder() {
    let deep = |n: usize| {
        resp(&format!(
            "{}<int>1</int>{}",
            "<array><data><value>".repeat(n),
            "</value></data></array>".repeat(n)
        ))
    };
    let small = DecodeOptions {
        max_string: 8,
        ..DecodeOptions::client()
    };
    let tiny = DecodeOptions {
        max_bytes: 20,
        ..DecodeOptions::client()
    };
    type Check = fn(&DecodeError) -> bool;
    let cases: Vec<(String, DecodeOptions, Check)> = vec![
        // Caps: the full decoder reports them.
        (deep(20), DecodeOptions::client(), |e| {
            *e == DecodeError::TooDeep(64)
        }),
        (resp("<string>123456789</string>"), small, |e| {
            *e == DecodeError::StringTooLarge(8)
        }),
        (resp("<string>x</string>"), tiny, |e| {
            *e == DecodeError::TooLarge(20)
        }),
        // Malformed XML.
        (String::new(), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Syntax(_))
        }),
        ("<methodResponse>".into(), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Syntax(_))
        }),
        (resp("<string>a</int>"), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Syntax(_))
        }),
        (
            resp("<string>a & b</string>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Syntax(_)),
        ),
        (
            resp("<string>&#0;</string>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Syntax(_)),
        ),
        (
            resp("<string>&#xZZ;</string>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Syntax(_)),
        ),
        (
            resp("<string>&nbsp;</string>"),
            DecodeOptions::client(),
            |e| *e == DecodeError::UnknownEntity("nbsp".into()),
        ),
        (
            format!("{}<methodResponse/>", resp("x")),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Syntax(_)),
        ),
        (format!("junk{}", resp("x")), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Syntax(_))
        }),
        (format!("{}junk", resp("x")), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Syntax(_))
        }),
        // Well-formed but not what the strict decoder accepts.
        (resp("<mystery>1</mystery>"), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Invalid(_))
        }),
        (
            resp("<boolean>true</boolean>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (resp("<int>x</int>"), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Invalid(_))
        }),
        (resp("<double>x</double>"), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Invalid(_))
        }),
        (resp("<base64>!!</base64>"), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Invalid(_))
        }),
        (
            resp("<int>1</int><int>2</int>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (
            resp("<string>a<b/></string>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (resp("<array></array>"), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Invalid(_))
        }),
        (
            resp("<array><value/></array>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (
            resp("<array><data><int>1</int></data></array>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (
            resp("<struct><member><value/></member></struct>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (
            resp("<struct><member><name>a</name></member></struct>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (
            resp("<struct><value/></struct>"),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        (
            "<methodResponse><params></params></methodResponse>".into(),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
        ("<methodResponse/>".into(), DecodeOptions::client(), |e| {
            matches!(e, DecodeError::Invalid(_))
        }),
        (
            "<methodCall><methodName>m</methodName></methodCall>".into(),
            DecodeOptions::client(),
            |e| matches!(e, DecodeError::Invalid(_)),
        ),
    ];
    for (body, opts, is_expected_error) in cases {
        assert_eq!(fast::response(&body, &opts), None, "{body}");
        let got = decode_response(&body, &opts).unwrap_err();
        assert!(is_expected_error(&got), "{body}: {got:?}");
    }
    // Valid, but outside what the fast path handles: the full decoder answers.
    let valid = [
        resp("<string><![CDATA[<x>]]></string>"),
        resp("<string>a<!-- c -->b</string>"),
        resp("<string>a\r\nb</string>"),
        resp("<string>a>b</string>"),
        resp("<string a='1'>x</string>"),
        resp("<string >x</string >"),
        resp("<nil><x/></nil>"),
        "<?xml version='1.1'?><methodResponse><params><param><value>v</value></param></params></methodResponse>".into(),
    ];
    for body in valid {
        let opts = DecodeOptions::client();
        assert_eq!(fast::response(&body, &opts), None, "{body}");
        assert!(decode_response(&body, &opts).is_ok(), "{body}");
    }
    // A fault struct without an int faultCode is decoded by the fast path, then refused.
    let faultless =
        "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>";
    assert_eq!(
        fast::response(faultless, &DecodeOptions::client()),
        Some(Err(Value::Struct(vec![])))
    );
    assert!(matches!(
        decode_response(faultless, &DecodeOptions::client()),
        Err(DecodeError::Invalid(_))
    ));
    // 64 elements deep (4 around the value, 3 per level, the int) still decodes.
    let nested = deep(19);
    let fast = fast::response(&nested, &DecodeOptions::client());
    assert!(fast.is_some());
    assert_eq!(tree(&nested, &DecodeOptions::client()).ok(), fast);
}

/// Every document one edit away from a rich valid one: wherever the fast path answers, the tree
/// decoder gives the same answer.
#[test]
fn fast_path_never_contradicts_the_tree_decoder() {
    let base = resp(
        "<array><data>\n<value><struct>\n<member>\n<name>n&amp;m</name>\n<value><string>a&#x42;c</string></value>\n</member>\n<member>\n<name>i</name>\n<value><int>12</int></value>\n</member>\n<member>\n<name>u</name>\n<value>raw</value>\n</member>\n<member>\n<name>b</name>\n<value><boolean>0</boolean></value>\n</member>\n</struct></value>\n<value><boolean>1</boolean></value>\n<value><nil/></value>\n<value>raw</value>\n<value><base64>aGk=</base64></value>\n<value><double>2.5</double></value>\n</data></array>",
    );
    let opts = DecodeOptions::client();
    assert!(fast::response(&base, &opts).is_some());
    let mut answered = 0;
    let mut variants = Vec::new();
    for (i, _) in base.char_indices() {
        let mut removed = base.clone();
        removed.remove(i);
        variants.push(removed);
        for insert in [
            "<", "&", "/", ">", "x", " ", "1", "<value>", "</value>", "<nil/>",
        ] {
            let mut inserted = base.clone();
            inserted.insert_str(i, insert);
            variants.push(inserted);
        }
    }
    for body in &variants {
        if let Some(fast) = fast::response(body, &opts) {
            answered += 1;
            assert_eq!(tree(body, &opts), Ok(fast), "{body}");
        }
    }
    // The edits inside text and whitespace keep documents decodable.
    assert!(answered > 100, "{answered}");
}

/// Members take the one-piece path when they have the encoders' shape; every other shape goes
/// element by element. Either way the values are the tree decoder's.
#[test]
fn struct_members_in_every_shape() {
    let member = |m: &str| resp(&format!("<struct>\n{m}\n</struct>"));
    let one = |k: &str, v: Value| Ok(Value::structure([(k, v)]));
    let cases: Vec<(String, Result<Value, Value>)> = vec![
        (
            member("<member>\n<name>k</name>\n<value><string>v</string></value>\n</member>"),
            one("k", s("v")),
        ),
        (
            member("<member><name>k</name><value>raw</value></member>"),
            one("k", s("raw")),
        ),
        (
            member("<member><name>k</name><value></value></member>"),
            one("k", s("")),
        ),
        (
            member("<member><name></name><value><int>-3</int></value></member>"),
            one("", Value::Int(-3)),
        ),
        (
            member("<member><name>k</name><value><i4>7</i4></value></member>"),
            one("k", Value::Int(7)),
        ),
        (
            member("<member><name>k</name><value><boolean>1</boolean></value></member>"),
            one("k", Value::Bool(true)),
        ),
        (
            member("<member><name>k</name><value><double>0.5</double></value></member>"),
            one("k", Value::Double(0.5)),
        ),
        (
            member("<member><name>k</name><value><string></string></value></member>"),
            one("k", s("")),
        ),
        (
            member("<member> \t<name>k</name>\n\n<value>x</value> </member>"),
            one("k", s("x")),
        ),
        // Shapes left to the element-by-element path.
        (
            member("<member><name>a&amp;b</name><value>x</value></member>"),
            one("a&b", s("x")),
        ),
        (
            member("<member><name>k</name><value>&lt;</value></member>"),
            one("k", s("<")),
        ),
        (
            member("<member><name>k</name><value><nil/></value></member>"),
            one("k", Value::Nil),
        ),
        (
            member("<member><name>k</name><value><string/></value></member>"),
            one("k", s("")),
        ),
        (
            member("<member><name/><value>x</value></member>"),
            one("", s("x")),
        ),
        (
            member("<member><name>k</name><value> <int>1</int> </value></member>"),
            one("k", Value::Int(1)),
        ),
        (
            member("<member>x<name>k</name><value>v</value></member>"),
            one("k", s("v")),
        ),
        (
            member(
                "<member><name>k</name><value><struct><member><name>i</name><value>v</value></member></struct></value></member>",
            ),
            one("k", Value::structure([("i", s("v"))])),
        ),
        (
            member(
                "<member><name>k</name><value><array><data><value>v</value></data></array></value></member>",
            ),
            one("k", Value::Array(vec![s("v")])),
        ),
    ];
    for (body, want) in cases {
        let opts = DecodeOptions::client();
        assert_eq!(fast::response(&body, &opts), Some(want.clone()), "{body}");
        assert_eq!(tree(&body, &opts), Ok(want), "tree: {body}");
    }
    // Members the strict decoder refuses, whichever path looks at them first.
    for bad in [
        "<member><name>k</name><value><int>x</int></value></member>",
        "<member><name>k</name><value><boolean>2</boolean></value></member>",
        "<member><name>k</name><value><string>a</int></value></member>",
        "<member><name>k</name></member>",
        "<member><value>v</value><name>k</name></member>",
        "<member><name>k</name><value>v</value><value>w</value></member>",
        "<member><name>k</name><value><mystery>1</mystery></value></member>",
    ] {
        let body = member(bad);
        assert_eq!(
            fast::response(&body, &DecodeOptions::client()),
            None,
            "{body}"
        );
        assert!(
            decode_response(&body, &DecodeOptions::client()).is_err(),
            "{body}"
        );
    }
}

/// The caps hold inside a member taken in one piece: depth counts its three levels, text
/// counts its key, its value and the whitespace between its children.
#[test]
fn member_shortcut_keeps_the_caps() {
    let body = resp("<struct><member><name>k</name><value><int>1</int></value></member></struct>");
    // methodResponse, params, param, value, struct, member, value, int: 8 levels.
    let depth = |max_depth| DecodeOptions {
        max_depth,
        ..DecodeOptions::client()
    };
    assert_eq!(
        fast::response(&body, &depth(8)),
        Some(Ok(Value::structure([("k", Value::Int(1))])))
    );
    assert_eq!(fast::response(&body, &depth(7)), None);
    assert_eq!(
        decode_response(&body, &depth(7)),
        Err(DecodeError::TooDeep(7))
    );
    let strings = DecodeOptions {
        max_string: 8,
        ..DecodeOptions::client()
    };
    for member in [
        "<member><name>123456789</name><value>v</value></member>",
        "<member><name>k</name><value>123456789</value></member>",
        "<member><name>k</name><value><string>123456789</string></value></member>",
        "<member>\n\n\n<name>k</name>\n\n\n<value>v</value>\n\n\n</member>",
    ] {
        let body = resp(&format!("<struct>{member}</struct>"));
        assert_eq!(fast::response(&body, &strings), None, "{member}");
        assert_eq!(
            decode_response(&body, &strings),
            Err(DecodeError::StringTooLarge(8)),
            "{member}"
        );
    }
    let fits = resp(
        "<struct><member>\n\n\n\n<name>12345678</name>\n\n\n\n<value>12345678</value></member></struct>",
    );
    assert_eq!(
        fast::response(&fits, &strings),
        Some(Ok(Value::structure([("12345678", s("12345678"))])))
    );
}

/// A tiny deterministic generator (no dependencies): xorshift.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A random `<value>` in many spellings: typed and untyped, empty forms, references, spaces.
fn random_value(rng: &mut Rng, depth: usize) -> String {
    let texts = [
        "",
        "x",
        " a b ",
        "p0000",
        "a&amp;b",
        "&#65;&lt;",
        "ü\tz",
        "12",
        "-7",
        "1",
        "0",
    ];
    let spaces = ["", "\n", " ", "\n\n"];
    let inner = match rng.below(if depth == 0 { 9 } else { 11 }) {
        0 => rng.pick(&texts).to_string(),
        1 => format!("<string>{}</string>", rng.pick(&texts)),
        2 => "<string/>".to_string(),
        3 => format!("<int>{}</int>", rng.pick(&["1", "-7", " 12 ", "x", ""])),
        4 => format!("<i4>{}</i4>", rng.pick(&["0", "99"])),
        5 => format!("<boolean>{}</boolean>", rng.pick(&["0", "1", "2"])),
        6 => format!(
            "<double>{}</double>",
            rng.pick(&["0.5", "-1e3", "inf", "x"])
        ),
        7 => rng
            .pick(&["<nil/>", "<nil></nil>", "<base64>aGk=</base64>"])
            .to_string(),
        8 => "<dateTime.iso8601>20200102T03:04:05</dateTime.iso8601>".to_string(),
        9 => {
            let items: Vec<String> = (0..rng.below(3))
                .map(|_| random_value(rng, depth - 1))
                .collect();
            format!(
                "<array><data>{}</data></array>",
                items.join(rng.pick(&spaces))
            )
        }
        _ => {
            let mut members = String::new();
            for _ in 0..rng.below(3) {
                let sp = rng.pick(&spaces);
                let key = rng.pick(&["k", "", "a&amp;b", "name"]);
                let v = random_value(rng, depth - 1);
                members.push_str(&format!(
                    "<member>{sp}<name>{key}</name>{sp}{v}{sp}</member>{sp}"
                ));
            }
            format!("<struct>{}{members}</struct>", rng.pick(&spaces))
        }
    };
    format!("<value>{inner}</value>")
}

/// Random replies and random edits of them: wherever the fast path answers, the tree decoder
/// agrees (run once with 200,000 rounds: 212,161 answers, no disagreement).
#[test]
fn fast_path_agrees_on_random_documents() {
    const ROUNDS: usize = 3000;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let opts = DecodeOptions::client();
    let edits = [
        "<", ">", "&", "/", " ", "x", "</value>", "<value>", "<member>", "\r",
    ];
    let mut answered = 0;
    for _ in 0..ROUNDS {
        let value = random_value(&mut rng, 3);
        let body = resp(&value["<value>".len()..value.len() - "</value>".len()]);
        let mut variants = vec![body.clone()];
        for _ in 0..3 {
            let mut edited = body.clone();
            let mut at = rng.below(edited.len() + 1);
            while !edited.is_char_boundary(at) {
                at -= 1;
            }
            if rng.below(2) == 0 && at < edited.len() {
                edited.remove(at);
            } else {
                edited.insert_str(at, rng.pick(&edits));
            }
            variants.push(edited);
        }
        for doc in variants {
            if let Some(fast) = fast::response(&doc, &opts) {
                answered += 1;
                assert_eq!(tree(&doc, &opts), Ok(fast), "{doc}");
            }
        }
    }
    assert!(answered > ROUNDS, "{answered}");
}

/// Everything our encoder writes (the daemon's replies) takes the fast path.
#[test]
fn encoder_output_takes_the_fast_path() {
    let values = vec![
        Value::Int(-5),
        Value::Bool(true),
        s("tab\there <&> ünï"),
        s(""),
        Value::Double(0.1),
        Value::DateTime("20200102T03:04:05".into()),
        Value::Base64(vec![0, 1, 2, 255]),
        Value::Array(vec![Value::Struct(vec![]), Value::Array(vec![])]),
        Value::structure([
            ("name", s("p0000")),
            ("a<b", Value::Int(1)),
            ("", s("x\ny")),
            (
                "nested",
                Value::structure([("k", Value::Array(vec![s("v")]))]),
            ),
        ]),
    ];
    for v in values {
        let body = crate::xmlrpc::encode_response(&v).unwrap();
        assert_eq!(
            fast::response(&body, &DecodeOptions::client()),
            Some(Ok(v)),
            "{body}"
        );
    }
    let fault = crate::xmlrpc::encode_fault(70, "SPAWN_ERROR: a & b");
    assert!(matches!(
        fast::response(&fault, &DecodeOptions::client()),
        Some(Err(_))
    ));
}
