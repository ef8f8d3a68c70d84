//! `caldav xml ...`: WebDAV XML bodies.
//!
//! `caldav xml decode [FILE|-]` streams a multistatus and prints one JSON object per
//! `<response>`, as soon as it is complete:
//!
//! ```text
//! {"hrefs":["/a/b.ics"],"status":null,"propstats":[{"status":200,"props":{"{DAV:}getetag":"\"abc\""}}]}
//! ```
//!
//! The format is stable: `hrefs` as the server sent them; `status` the response-level status
//! code or `null`; each propstat's `status` (or `null` when missing or unparsable) and `props`
//! keyed by Clark name (`{namespace}local`). A value is its text when the element holds no child
//! elements (CDATA included; `""` when empty), otherwise a list of child objects
//! `{"name": "{ns}local", "attrs": {...}, "value": ...}` with values by the same rule. A
//! response's `error` (DAV:error condition names), `location` and `description` appear only
//! when present. A final `{"sync-token": ...}` line is printed when the multistatus has one.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use dav_xml::{Element, Response, StreamDecoder};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The `xml` subcommands.
#[derive(Subcommand)]
pub(crate) enum XmlCommand {
    /// Decode a multistatus body to JSON, one line per `<response>`.
    ///
    /// Values: text when an element holds only text (CDATA included), otherwise a list of
    /// `{"name", "attrs", "value"}` objects. Names in Clark notation, `{namespace}local`.
    Decode {
        /// The file to read, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

pub(crate) fn run(command: XmlCommand) -> Result<ExitCode> {
    match command {
        XmlCommand::Decode { file } => decode(&file),
    }
}

fn decode(file: &Path) -> Result<ExitCode> {
    let mut input: Box<dyn Read> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        )
    };
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let mut decoder = StreamDecoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input.read(&mut buf).context("cannot read input")?;
        if n == 0 {
            break;
        }
        decoder.feed(buf.get(..n).unwrap_or_default())?;
        while let Some(response) = decoder.poll() {
            writeln!(out, "{}", response_json(&response))?;
        }
    }
    let rest = decoder.finish()?;
    for response in &rest.responses {
        writeln!(out, "{}", response_json(response))?;
    }
    if let Some(token) = &rest.sync_token {
        writeln!(out, "{}", json!({ "sync-token": token }))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One output line; field order is the documented order.
#[derive(Serialize)]
struct ResponseLine<'a> {
    hrefs: Vec<&'a str>,
    status: Option<u16>,
    propstats: Vec<PropStatLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Serialize)]
struct PropStatLine {
    status: Option<u16>,
    props: BTreeMap<String, PropValue>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PropValue {
    Text(String),
    Children(Vec<ChildLine>),
}

#[derive(Serialize)]
struct ChildLine {
    name: String,
    attrs: BTreeMap<String, String>,
    value: PropValue,
}

/// The JSON line for one response.
pub(crate) fn response_json(response: &Response) -> String {
    let line = ResponseLine {
        hrefs: response.hrefs.iter().map(|h| h.as_str()).collect(),
        status: response.status.map(|s| s.as_u16()),
        propstats: response
            .propstats
            .iter()
            .map(|propstat| PropStatLine {
                status: propstat.status.map(|s| s.as_u16()),
                props: propstat
                    .props
                    .iter()
                    .map(|p| (p.name.to_string(), value(p)))
                    .collect(),
            })
            .collect(),
        error: response
            .error
            .as_ref()
            .map(|e| e.conditions.iter().map(|c| c.name().to_string()).collect()),
        location: response.location.as_ref().map(|l| l.as_str()),
        description: response.description.as_deref(),
    };
    // Serialising strings and maps of strings cannot fail.
    serde_json::to_string(&line).unwrap_or_default()
}

fn value(element: &Element) -> PropValue {
    if element.is_text_only() {
        return PropValue::Text(element.text().into_owned());
    }
    PropValue::Children(
        element
            .elements()
            .map(|child| ChildLine {
                name: child.name.to_string(),
                attrs: child
                    .attributes
                    .iter()
                    .map(|a| (a.name.to_string(), a.value.clone()))
                    .collect(),
                value: value(child),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dav_xml::Multistatus;

    #[test]
    fn issue_format() {
        let body = br#"<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
          <d:response><d:href>/a/b.ics</d:href><d:propstat><d:prop>
            <d:getetag>"abc"</d:getetag>
            <c:calendar-data><![CDATA[BEGIN:VCALENDAR]]></c:calendar-data>
            <d:resourcetype><d:collection/><c:calendar x="1"/></d:resourcetype>
          </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
        </d:multistatus>"#;
        let ms = Multistatus::decode(body).unwrap();
        let line = response_json(&ms.responses[0]);
        assert_eq!(
            line,
            r#"{"hrefs":["/a/b.ics"],"status":null,"propstats":[{"status":200,"props":{"{DAV:}getetag":"\"abc\"","{DAV:}resourcetype":[{"name":"{DAV:}collection","attrs":{},"value":""},{"name":"{urn:ietf:params:xml:ns:caldav}calendar","attrs":{"x":"1"},"value":""}],"{urn:ietf:params:xml:ns:caldav}calendar-data":"BEGIN:VCALENDAR"}}]}"#
        );
    }
}
