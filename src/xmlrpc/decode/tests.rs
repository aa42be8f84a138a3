//! Table-driven tests of both decoding dialects, including hostile documents.

use super::*;

fn call(params: &str) -> String {
    format!(
        "<?xml version='1.0'?><methodCall><methodName>m</methodName><params>{params}</params></methodCall>"
    )
}

fn param(v: &str) -> String {
    format!("<param><value>{v}</value></param>")
}

fn server(body: &str) -> Result<MethodCall, DecodeError> {
    decode_call(body, &DecodeOptions::server())
}

fn s(x: &str) -> Value {
    Value::string(x)
}

/// Outcomes captured from the reference's own server-side unmarshaller.
#[test]
fn server_dialect_matches_reference_quirks() {
    let cases: Vec<(String, Result<Vec<Value>, ()>)> = vec![
        (
            call(
                &[
                    param("<i8>0</i8>"),
                    param("<nil/>"),
                    param("<boolean>true</boolean>"),
                    param("<boolean>1</boolean>"),
                ]
                .concat(),
            ),
            Ok(vec![
                s("0"),
                Value::Nil,
                Value::Bool(false),
                Value::Bool(true),
            ]),
        ),
        (
            call(
                &[
                    param("<base64>aGk=</base64>"),
                    param("  bare "),
                    param(""),
                    param("<string/>"),
                ]
                .concat(),
            ),
            Ok(vec![s("hi"), s("  bare "), s(""), s("")]),
        ),
        (
            call(&param(
                "<struct><member><name>a</name><value><int> 7 </int></value></member><member><name/><value>x</value></member></struct>",
            )),
            Ok(vec![Value::structure([("a", Value::Int(7)), ("", s("x"))])]),
        ),
        (
            call(&param(
                "<array><data><value><int>1</int></value><value><nil/></value></data></array>",
            )),
            Ok(vec![Value::Array(vec![Value::Int(1), Value::Nil])]),
        ),
        (call(&param("<foo>bar<x/>baz</foo>")), Ok(vec![s("bar")])),
        (call(&param("<string>a<b/>c</string>")), Ok(vec![s("a")])),
        (
            call(
                &[
                    param("<double>1.5</double>"),
                    param("<dateTime.iso8601>20200102T03:04:05</dateTime.iso8601>"),
                ]
                .concat(),
            ),
            Ok(vec![
                Value::Double(1.5),
                Value::DateTime("20200102T03:04:05".into()),
            ]),
        ),
        (call(&param("<int>x</int>")), Err(())),
        (call(&param("<int/>")), Err(())),
        (call(&param("<base64>/w==</base64>")), Err(())),
        (
            call(&param("<struct><member><name>a</name></member></struct>")),
            Err(()),
        ),
        (
            call(&param("<dateTime.iso8601>yesterday</dateTime.iso8601>")),
            Err(()),
        ),
        (call("<param/>"), Err(())),
    ];
    for (body, want) in cases {
        let got = server(&body).map(|c| c.params).map_err(|_| ());
        assert_eq!(got, want, "{body}");
    }
}

#[test]
fn server_dialect_method_name_rules() {
    type Case<'a> = (&'a str, Result<(&'a str, usize), DecodeError>);
    let cases: Vec<Case> = vec![
        (
            "<methodCall><methodName>a.b</methodName></methodCall>",
            Ok(("a.b", 0)),
        ),
        (
            "<methodCall><methodName>&lt;&#65;&#x42;</methodName></methodCall>",
            Ok(("<AB", 0)),
        ),
        (
            "<methodCall><methodName></methodName></methodCall>",
            Err(DecodeError::NoMethodName),
        ),
        (
            "<methodCall><params/></methodCall>",
            Err(DecodeError::NoMethodName),
        ),
        (
            "<anything><methodName>x</methodName><params><param><value>1</value></param></params></anything>",
            Ok(("x", 1)),
        ),
    ];
    for (body, want) in cases {
        let got = server(body).map(|c| (c.method, c.params.len()));
        let want = want.map(|(m, n)| (m.to_string(), n));
        assert_eq!(got, want, "{body}");
    }
}

#[test]
fn hostile_documents_are_refused() {
    let deep = format!(
        "{}{}",
        "<value><array><data>".repeat(200),
        "</data></array></value>".repeat(200)
    );
    let huge = call(&param(&format!("<string>{}</string>", "a".repeat(100))));
    let small = DecodeOptions {
        max_string: 50,
        ..DecodeOptions::server()
    };
    let tiny = DecodeOptions {
        max_bytes: 20,
        ..DecodeOptions::server()
    };
    let cases: Vec<(String, DecodeOptions, DecodeError)> = vec![
        (call(&param(&deep)), DecodeOptions::server(), DecodeError::TooDeep(64)),
        (huge.clone(), small, DecodeError::StringTooLarge(50)),
        (huge, tiny, DecodeError::TooLarge(20)),
        // Text after an element's first child is not stored but still counts.
        (
            call(&param(&format!(
                "<array><data><value>1</value>{}</data></array>",
                " ".repeat(60)
            ))),
            small,
            DecodeError::StringTooLarge(50),
        ),
        (
            "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall><methodName>&a;</methodName></methodCall>".into(),
            DecodeOptions::server(),
            DecodeError::Doctype,
        ),
        (
            "<methodCall><methodName>&ent;</methodName></methodCall>".into(),
            DecodeOptions::server(),
            DecodeError::UnknownEntity("ent".into()),
        ),
        (
            "<methodCall><methodName>&nbsp;</methodName></methodCall>".into(),
            DecodeOptions::client(),
            DecodeError::UnknownEntity("nbsp".into()),
        ),
    ];
    for (body, opts, want) in cases {
        let got = decode_call(&body, &opts).unwrap_err();
        assert_eq!(got, want, "{}", &body[..body.len().min(80)]);
    }
    let malformed = [
        "",
        "<methodCall>",
        "<methodCall><methodName>x</methodCall>",
        "<methodCall></methodCall><methodCall></methodCall>",
        "text<methodCall/>",
        "<methodCall><methodName>&#0;</methodName></methodCall>",
        "<methodCall><methodName>&#xZZ;</methodName></methodCall>",
        "<methodCall><methodName>a & b</methodName></methodCall>",
    ];
    for body in malformed {
        for opts in [DecodeOptions::server(), DecodeOptions::client()] {
            assert!(
                matches!(
                    decode_call(body, &opts),
                    Err(DecodeError::Syntax(_) | DecodeError::UnknownEntity(_))
                ),
                "{body:?} -> {:?}",
                decode_call(body, &opts)
            );
        }
    }
}

#[test]
fn standard_dialect_responses() {
    let resp = |v: &str| {
        format!(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>{v}</value>\n</param>\n</params>\n</methodResponse>\n"
        )
    };
    let cases: Vec<(String, Result<Response, ()>)> = vec![
        (
            resp("<string>a&lt;&amp;&gt;</string>"),
            Ok(Response::Success(s("a<&>"))),
        ),
        (resp("  x  "), Ok(Response::Success(s("  x  ")))),
        (
            resp("  <string>a</string>  "),
            Ok(Response::Success(s("a"))),
        ),
        (resp("<i8>5</i8>"), Ok(Response::Success(Value::Int(5)))),
        (resp("<nil/>"), Ok(Response::Success(Value::Nil))),
        (
            resp("<boolean>0</boolean>"),
            Ok(Response::Success(Value::Bool(false))),
        ),
        (resp("<boolean>true</boolean>"), Err(())),
        (
            resp("<base64>\naGk=\n</base64>"),
            Ok(Response::Success(Value::Base64(b"hi".to_vec()))),
        ),
        (
            resp("<double>1e+20</double>"),
            Ok(Response::Success(Value::Double(1e20))),
        ),
        (
            resp("<double>inf</double>"),
            Ok(Response::Success(Value::Double(f64::INFINITY))),
        ),
        (
            resp("<dateTime.iso8601>20200102T03:04:05</dateTime.iso8601>"),
            Ok(Response::Success(Value::DateTime(
                "20200102T03:04:05".into(),
            ))),
        ),
        (resp("<mystery>1</mystery>"), Err(())),
        (
            resp("<int>99999999999</int>"),
            Ok(Response::Success(Value::Int(99999999999))),
        ),
        (
            resp(
                "<struct>\n<member>\n<name>k</name>\n<value><array><data>\n<value><int>1</int></value>\n</data></array></value>\n</member>\n</struct>",
            ),
            Ok(Response::Success(Value::structure([(
                "k",
                Value::Array(vec![Value::Int(1)]),
            )]))),
        ),
        (
            crate::xmlrpc::encode_fault(10, "BAD_NAME: a<b"),
            Ok(Response::Fault {
                code: 10,
                string: "BAD_NAME: a<b".into(),
            }),
        ),
        (
            "<methodResponse><params></params></methodResponse>".into(),
            Err(()),
        ),
        (
            "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>"
                .into(),
            Err(()),
        ),
    ];
    for (body, want) in cases {
        let got = decode_response(&body, &DecodeOptions::client()).map_err(|_| ());
        assert_eq!(got, want, "{body}");
    }
}

#[test]
fn encoded_values_round_trip() {
    let values = vec![
        Value::Int(-5),
        Value::Bool(true),
        s("tab\there <&> ünï"),
        Value::Double(0.1),
        Value::Base64(vec![0, 1, 2, 255]),
        Value::Array(vec![Value::Struct(vec![]), Value::Array(vec![])]),
        Value::structure([("b", Value::Int(1)), ("a", s(""))]),
    ];
    for v in values {
        let body = crate::xmlrpc::encode_response(&v).unwrap();
        assert_eq!(
            decode_response(&body, &DecodeOptions::client()),
            Ok(Response::Success(v.clone()))
        );
        let call_body = crate::xmlrpc::encode_call("x.y", std::slice::from_ref(&v)).unwrap();
        let call = decode_call(&call_body, &DecodeOptions::client()).unwrap();
        assert_eq!(
            call,
            MethodCall {
                method: "x.y".into(),
                params: vec![v]
            }
        );
    }
}
