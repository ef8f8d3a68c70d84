//! jCal (RFC 7265): the JSON form of the same model.
//!
//! ```text
//! component = [ name, [ property, ... ], [ component, ... ] ]     ; §3.4
//! property  = [ name, { param: value, ... }, type, value, ... ]   ; §3.4.1
//! ```
//!
//! Names are lowercase; the `VALUE` parameter becomes the type (§3.4.1.2); list properties
//! have one JSON value per element (§3.4.1.3); GEO and REQUEST-STATUS are structured values
//! (§3.4.1.4); RECUR is an object (§3.6.10). A value that does not parse as its type is kept
//! as its text (nothing is dropped), and an unreadable raw line becomes an `x-raw-line`
//! property of type `unknown`. A stream with one top-level component is that component's
//! array; several are an array of them.
//!
//! # Example
//!
//! ```
//! let calendar = ical_parse::parse("BEGIN:VCALENDAR\r\nDTSTART:20240101T090000Z\r\nEND:VCALENDAR\r\n").unwrap();
//! let json = ical_parse::jcal::to_json(&calendar);
//! assert_eq!(json.to_string(), r#"["vcalendar",[["dtstart",{},"date-time","2024-01-01T09:00:00Z"]],[]]"#);
//! assert_eq!(ical_parse::jcal::from_json(&json).unwrap(), calendar);
//! ```

use crate::component::{Calendar, Component};
use crate::error::{Error, ErrorKind};
use crate::property::{Parameter, Property, default_value_type};
use crate::value::{self, ValueType, escape_text, split_list, unescape_text};
use serde_json::{Map, Value as Json};
use std::borrow::Cow;

/// The name jCal gives a raw line a lenient parse could not read.
pub const RAW_LINE: &str = "x-raw-line";

/// Deepest component nesting [`from_json`] accepts.
pub const MAX_DEPTH: usize = 64;

/// The stream as jCal.
#[must_use]
pub fn to_json(calendar: &Calendar<'_>) -> Json {
    let mut roots: Vec<Json> = calendar.components.iter().map(component_to_json).collect();
    if !calendar.properties.is_empty() {
        // Properties outside any component have no place in jCal: an unnamed wrapper holds them.
        roots.insert(
            0,
            Json::Array(vec![
                Json::String(String::new()),
                Json::Array(calendar.properties.iter().map(property_to_json).collect()),
                Json::Array(Vec::new()),
            ]),
        );
    }
    if roots.len() == 1 {
        roots.pop().unwrap_or(Json::Null)
    } else {
        Json::Array(roots)
    }
}

fn component_to_json(component: &Component<'_>) -> Json {
    Json::Array(vec![
        Json::String(component.name.to_ascii_lowercase()),
        Json::Array(component.properties.iter().map(property_to_json).collect()),
        Json::Array(component.components.iter().map(component_to_json).collect()),
    ])
}

/// The jCal type name of a property: its `VALUE`, its default, or `unknown`; a DATE-TIME
/// property whose value is a bare date reads as `date` (§3.3.4, and what producers mean).
fn jcal_type(property: &Property<'_>) -> ValueType {
    let t = property.value_type();
    if t == ValueType::DateTime
        && property.param("VALUE").is_none()
        && split_list(&property.raw_value).all(|v| v.len() == 8)
    {
        ValueType::Date
    } else {
        t
    }
}

fn type_name(t: ValueType) -> String {
    t.as_str().to_ascii_lowercase()
}

fn property_to_json(property: &Property<'_>) -> Json {
    if property.is_raw() {
        return Json::Array(vec![
            Json::String(RAW_LINE.to_owned()),
            Json::Object(Map::new()),
            Json::String("unknown".to_owned()),
            Json::String(property.raw_value.to_string()),
        ]);
    }
    let raw = property.raw_value.as_ref();
    let mut t = jcal_type(property);
    // A value that does not read as its type goes out as `unknown` text with its VALUE
    // parameter kept, so that the jCal reads back to the same text.
    let structured = property.is("GEO") || property.is("REQUEST-STATUS");
    if !structured && !reads_as(t, raw, property.is_list()) {
        t = ValueType::Unknown;
    }
    let mut params = Map::new();
    for p in &property.params {
        if p.name.eq_ignore_ascii_case("VALUE") && t != ValueType::Unknown {
            continue;
        }
        let key = p.name.to_ascii_lowercase();
        let mut values: Vec<Json> = p
            .values
            .iter()
            .map(|v| Json::String(v.to_string()))
            .collect();
        // A JSON object holds a name once: a repeated parameter joins the first one's values.
        if let Some(earlier) = params.remove(&key) {
            let mut merged = match earlier {
                Json::Array(a) => a,
                other => vec![other],
            };
            merged.append(&mut values);
            values = merged;
        }
        let value = if values.len() == 1 {
            values.pop().unwrap_or(Json::Null)
        } else {
            Json::Array(values)
        };
        params.insert(key, value);
    }
    let mut out = vec![
        Json::String(property.name.to_ascii_lowercase()),
        Json::Object(params),
        Json::String(type_name(t)),
    ];
    if property.is("GEO") {
        out.push(geo_to_json(raw));
    } else if property.is("REQUEST-STATUS") {
        out.push(Json::Array(
            split_unescaped(raw, b';')
                .map(|s| Json::String(unescape_text(s).into_owned()))
                .collect(),
        ));
    } else if property.is_list() {
        out.extend(split_list(raw).map(|v| value_to_json(t, v)));
    } else {
        out.push(value_to_json(t, raw));
    }
    Json::Array(out)
}

fn reads_as(t: ValueType, raw: &str, list: bool) -> bool {
    // BINARY stays a string in jCal whether or not its base64 is well formed.
    if t == ValueType::Binary {
        true
    } else if list {
        split_list(raw).all(|v| value::Value::parse(t, v).is_ok())
    } else {
        value::Value::parse(t, raw).is_ok()
    }
}

fn geo_to_json(raw: &str) -> Json {
    let parts: Option<Vec<Json>> = raw
        .split(';')
        .map(|s| value::parse_float(s).ok().and_then(number))
        .collect();
    match parts {
        Some(p) if p.len() == 2 => Json::Array(p),
        _ => Json::String(raw.to_owned()),
    }
}

fn number(x: f64) -> Option<Json> {
    serde_json::Number::from_f64(x).map(Json::Number)
}

/// Splits at `sep` bytes not escaped by a backslash.
fn split_unescaped(raw: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let s = rest?;
        let b = s.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            if c == b'\\' {
                i += 2;
            } else if c == sep {
                rest = s.get(i + 1..);
                return s.get(..i);
            } else {
                i += 1;
            }
        }
        rest = None;
        Some(s)
    })
}

fn value_to_json(t: ValueType, raw: &str) -> Json {
    let text = || Json::String(raw.to_owned());
    match t {
        ValueType::Text => Json::String(unescape_text(raw).into_owned()),
        ValueType::Boolean => value::parse_boolean(raw).map_or_else(|_| text(), Json::Bool),
        ValueType::Integer => value::parse_integer(raw).map_or_else(|_| text(), Json::from),
        ValueType::Float => value::parse_float(raw)
            .ok()
            .and_then(number)
            .unwrap_or_else(text),
        ValueType::Date | ValueType::DateTime | ValueType::Time | ValueType::UtcOffset => {
            date_to_json(t, raw).map_or_else(text, Json::String)
        }
        ValueType::Period => match raw.split_once('/') {
            Some((start, end)) if value::Period::parse(raw).is_ok() => {
                let end = if value::Duration::parse(end).is_ok() {
                    end.to_owned()
                } else {
                    date_to_json(ValueType::DateTime, end).unwrap_or_else(|| end.to_owned())
                };
                Json::Array(vec![
                    Json::String(
                        date_to_json(ValueType::DateTime, start)
                            .unwrap_or_else(|| start.to_owned()),
                    ),
                    Json::String(end),
                ])
            }
            _ => text(),
        },
        ValueType::Recur => recur_to_json(raw).unwrap_or_else(text),
        _ => text(),
    }
}

/// `YYYYMMDD` -> `YYYY-MM-DD` and the like (§3.3.4, §3.3.5, §3.3.12, §3.3.14 of RFC 7265).
fn date_to_json(t: ValueType, raw: &str) -> Option<String> {
    match t {
        ValueType::Date => {
            let d = value::Date::parse(raw).ok()?.0;
            Some(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        ValueType::DateTime => {
            let dt = value::DateTime::parse(raw).ok()?;
            let c = dt.civil;
            Some(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
                c.year(),
                c.month(),
                c.day(),
                c.hour(),
                c.minute(),
                c.second(),
                if dt.utc { "Z" } else { "" }
            ))
        }
        ValueType::Time => {
            let t = value::Time::parse(raw).ok()?;
            let c = t.civil;
            Some(format!(
                "{:02}:{:02}:{:02}{}",
                c.hour(),
                c.minute(),
                c.second(),
                if t.utc { "Z" } else { "" }
            ))
        }
        ValueType::UtcOffset => {
            value::UtcOffset::parse(raw).ok()?;
            let (sign, rest) = raw.split_at_checked(1)?;
            let hh = rest.get(0..2)?;
            let mm = rest.get(2..4)?;
            Some(match rest.get(4..6) {
                Some(ss) => format!("{sign}{hh}:{mm}:{ss}"),
                None => format!("{sign}{hh}:{mm}"),
            })
        }
        _ => None,
    }
}

const NUMERIC_PARTS: [&str; 9] = [
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYSETPOS",
];

fn recur_to_json(raw: &str) -> Option<Json> {
    crate::recur::Recur::check(raw).ok()?;
    let mut map = Map::new();
    for part in raw.split(';').filter(|p| !p.is_empty()) {
        let (name, v) = part.split_once('=')?;
        let upper = name.to_ascii_uppercase();
        let item = |s: &str| -> Json {
            if upper == "UNTIL" {
                let t = if s.len() == 8 {
                    ValueType::Date
                } else {
                    ValueType::DateTime
                };
                return Json::String(date_to_json(t, s).unwrap_or_else(|| s.to_owned()));
            }
            let numeric = NUMERIC_PARTS.contains(&upper.as_str())
                || (upper == "BYMONTH" && !s.ends_with(['L', 'l']));
            match s.parse::<i64>() {
                Ok(n) if numeric => Json::from(n),
                _ => Json::String(s.to_owned()),
            }
        };
        let items: Vec<Json> = v.split(',').map(item).collect();
        let value = if items.len() == 1 {
            items.into_iter().next()?
        } else {
            Json::Array(items)
        };
        map.insert(name.to_ascii_lowercase(), value);
    }
    Some(Json::Object(map))
}

fn bad(what: &'static str) -> Error {
    Error::new(0, 0, ErrorKind::Expected(what))
}

/// Reads jCal into the model (owned).
///
/// # Errors
///
/// [`ErrorKind::Expected`] naming the jCal construct that was malformed, or a nesting
/// deeper than [`MAX_DEPTH`].
pub fn from_json(json: &Json) -> Result<Calendar<'static>, Error> {
    let mut calendar = Calendar::new();
    let Json::Array(items) = json else {
        return Err(bad("a jCal component array"));
    };
    if items.first().is_some_and(Json::is_string) {
        push_root(&mut calendar, json)?;
    } else {
        for item in items {
            push_root(&mut calendar, item)?;
        }
    }
    Ok(calendar)
}

fn push_root(calendar: &mut Calendar<'static>, json: &Json) -> Result<(), Error> {
    let component = component_from_json(json, 0)?;
    if component.name.is_empty() {
        calendar.properties.extend(component.properties);
    } else {
        calendar.components.push(component);
    }
    Ok(())
}

fn component_from_json(json: &Json, depth: usize) -> Result<Component<'static>, Error> {
    if depth > MAX_DEPTH {
        return Err(bad("a shallower jCal component nesting"));
    }
    let Some(
        [
            Json::String(name),
            Json::Array(props),
            Json::Array(children),
        ],
    ) = json.as_array().map(Vec::as_slice)
    else {
        return Err(bad("a jCal component [name, properties, components]"));
    };
    let mut component = Component::new(Cow::Owned(name.clone()));
    for p in props {
        component.properties.push(property_from_json(p)?);
    }
    for c in children {
        component
            .components
            .push(component_from_json(c, depth + 1)?);
    }
    Ok(component)
}

fn property_from_json(json: &Json) -> Result<Property<'static>, Error> {
    let Some(
        [
            Json::String(name),
            Json::Object(params),
            Json::String(t),
            values @ ..,
        ],
    ) = json.as_array().map(Vec::as_slice)
    else {
        return Err(bad("a jCal property [name, parameters, type, value...]"));
    };
    if values.is_empty() {
        return Err(bad("a jCal property value"));
    }
    if name == RAW_LINE {
        let raw = values.first().and_then(Json::as_str).unwrap_or_default();
        return Ok(Property::raw(raw.to_owned()));
    }
    let upper = name.to_ascii_uppercase();
    let value_type = if t.eq_ignore_ascii_case("unknown") {
        ValueType::Unknown
    } else {
        ValueType::from_name(t)
    };
    let mut property = Property::new(Cow::Owned(upper.clone()), String::new());
    for (k, v) in params {
        let values = match v {
            Json::String(s) => vec![Cow::Owned(s.clone())],
            Json::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(|s| Cow::Owned(s.to_owned())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("parameter values that are strings"))?,
            _ => return Err(bad("a parameter value that is a string or an array")),
        };
        property
            .params
            .push(Parameter::with_values(Cow::Owned(k.clone()), values));
    }
    let default = default_value_type(&upper);
    let implied_date = value_type == ValueType::Date && default == ValueType::DateTime;
    if value_type != default && value_type != ValueType::Unknown && !implied_date {
        property
            .params
            .push(Parameter::new("VALUE", t.to_ascii_uppercase()));
    } else if implied_date {
        property.params.push(Parameter::new("VALUE", "DATE"));
    }
    let mut raw = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            raw.push(',');
        }
        if upper == "GEO" || upper == "REQUEST-STATUS" {
            structured_from_json(&mut raw, v, upper == "GEO")?;
        } else {
            raw.push_str(&value_from_json(value_type, v)?);
        }
    }
    property.raw_value = Cow::Owned(raw);
    Ok(property)
}

fn structured_from_json(out: &mut String, v: &Json, geo: bool) -> Result<(), Error> {
    match v {
        Json::Array(parts) => {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(';');
                }
                match p {
                    Json::String(s) if geo => out.push_str(s),
                    Json::String(s) => out.push_str(&escape_text(s)),
                    Json::Number(n) => out.push_str(&n.to_string()),
                    _ => return Err(bad("a structured value of strings or numbers")),
                }
            }
            Ok(())
        }
        Json::String(s) => {
            out.push_str(s);
            Ok(())
        }
        _ => Err(bad("a structured value")),
    }
}

fn value_from_json(t: ValueType, v: &Json) -> Result<String, Error> {
    Ok(match (t, v) {
        (ValueType::Text, Json::String(s)) => escape_text(s).into_owned(),
        (ValueType::Boolean, Json::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        (ValueType::Integer | ValueType::Float, Json::Number(n)) => n.to_string(),
        (
            ValueType::Date | ValueType::DateTime | ValueType::Time | ValueType::UtcOffset,
            Json::String(s),
        ) => compact(t, s),
        (ValueType::Period, Json::Array(parts)) => {
            let [Json::String(a), Json::String(b)] = parts.as_slice() else {
                return Err(bad("a period [start, end or duration]"));
            };
            let end = if b.starts_with(['P', '+']) || b.starts_with("-P") {
                b.clone()
            } else {
                compact(ValueType::DateTime, b)
            };
            format!("{}/{end}", compact(ValueType::DateTime, a))
        }
        (ValueType::Recur, Json::Object(map)) => recur_from_json(map)?,
        (_, Json::String(s)) => s.clone(),
        (_, Json::Number(n)) => n.to_string(),
        (_, Json::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        _ => return Err(bad("a value of the property's type")),
    })
}

/// `2024-01-02T03:04:05Z` -> `20240102T030405Z`; a UTC-OFFSET keeps its sign.
fn compact(t: ValueType, s: &str) -> String {
    match (t, s.strip_prefix('-')) {
        (ValueType::UtcOffset, Some(rest)) => format!("-{}", rest.replace(':', "")),
        _ => s.replace(['-', ':'], ""),
    }
}

fn recur_from_json(map: &Map<String, Json>) -> Result<String, Error> {
    let mut parts: Vec<(String, String)> = Vec::new();
    for (k, v) in map {
        let upper = k.to_ascii_uppercase();
        let one = |x: &Json| -> Result<String, Error> {
            match x {
                Json::String(s) if upper == "UNTIL" => Ok(compact(ValueType::DateTime, s)),
                Json::String(s) => Ok(s.clone()),
                Json::Number(n) => Ok(n.to_string()),
                _ => Err(bad("a recurrence rule part that is a string or a number")),
            }
        };
        let text = match v {
            Json::Array(items) => items
                .iter()
                .map(one)
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            x => one(x)?,
        };
        parts.push((upper, text));
    }
    // FREQ first (RFC 5545 §3.3.10 asks for it), the rest in the object's order.
    parts.sort_by_key(|(k, _)| k != "FREQ");
    Ok(parts
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_convert_both_ways() {
        let text = "BEGIN:VCALENDAR\r\nX-O;VALUE=UTC-OFFSET:-0530\r\nGEO:1.5;-2.25\r\n\
                    RDATE;VALUE=PERIOD:19960403T020000Z/PT3H\r\nRRULE:FREQ=DAILY;UNTIL=20121011T121314Z;BYHOUR=1,2\r\n\
                    CATEGORIES:a\\,b,c\r\nX-B;VALUE=BOOLEAN:TRUE\r\nEND:VCALENDAR\r\n";
        let cal = crate::parse(text).unwrap();
        let json = to_json(&cal);
        let props = &json[1];
        assert_eq!(props[0][3], "-05:30");
        assert_eq!(props[1][3], serde_json::json!([1.5, -2.25]));
        assert_eq!(
            props[2][3],
            serde_json::json!(["1996-04-03T02:00:00Z", "PT3H"])
        );
        assert_eq!(
            props[3][3],
            serde_json::json!({"freq": "DAILY", "until": "2012-10-11T12:13:14Z", "byhour": [1, 2]})
        );
        assert_eq!(props[4].as_array().unwrap().len(), 5);
        assert_eq!(props[5][3], true);
        let back = from_json(&json).unwrap();
        assert_eq!(back.write(), text);
    }

    /// Fuzz crash: `X;VALUE=ER;VALUE=INTEGER:105` wrote two "value" keys, the second
    /// overwriting the first, so the jCal read back as an INTEGER property.
    #[test]
    fn regression_jcal_duplicate_parameter_names() {
        let cal = crate::parse("BEGIN:VCALENDAR\nX-A;VALUE=ER;VALUE=INTEGER:105\nEND:VCALENDAR\n")
            .unwrap();
        let json = to_json(&cal);
        assert_eq!(
            json[1][0][1],
            serde_json::json!({"value": ["ER", "INTEGER"]})
        );
        let back = from_json(&json).unwrap();
        assert_eq!(to_json(&back), json);
        let bytes = include_bytes!("../tests/fixtures/fuzz/ical_parse-crash-1351dab1");
        let parsed = crate::parse_bytes_with(bytes, &crate::ParseOptions::lenient()).unwrap();
        let json = to_json(&parsed.calendar);
        assert_eq!(to_json(&from_json(&json).unwrap()), json);
    }

    /// Fuzz crash: a DESCRIPTION holding a raw CR (kept by a lenient parse) came back from
    /// jCal as `\n`, because escaping turned CR into a line break.
    #[test]
    fn regression_jcal_text_with_carriage_return() {
        let cal = crate::parse("BEGIN:VCALENDAR\nDESCRIPTION:a\rb\\nc\nEND:VCALENDAR\n").unwrap();
        let json = to_json(&cal);
        assert_eq!(json[1][0][3], "a\rb\nc");
        assert_eq!(to_json(&from_json(&json).unwrap()), json);
    }

    #[test]
    fn malformed_jcal_is_an_error() {
        assert!(from_json(&serde_json::json!({"a": 1})).is_err());
        assert!(from_json(&serde_json::json!(["vcalendar", [["x", {}, "text"]], []])).is_err());
        let mut deep = serde_json::json!(["x", [], []]);
        for _ in 0..100 {
            deep = serde_json::json!(["x", [], [deep]]);
        }
        assert!(from_json(&deep).is_err());
    }
}
