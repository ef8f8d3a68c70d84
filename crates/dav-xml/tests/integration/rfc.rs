//! Examples after RFC 4918, RFC 4791 and RFC 6578, and documents written the ways servers
//! write them (default namespaces, redeclared prefixes, comments, processing instructions).

use dav_xml::{Condition, DavError, Href, Multistatus, QName, StreamDecoder};
use http::StatusCode;

use crate::stream::stream;

/// Whole and byte-by-byte streamed decoding agree; returns the decoded document.
fn decode(body: &[u8]) -> Multistatus {
    let whole = Multistatus::decode(body).unwrap();
    assert_eq!(stream(body.chunks(1)).unwrap(), whole);
    whole
}

#[test]
fn rfc4918_9_1_3_propfind_with_a_403_propstat() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
     <D:multistatus xmlns:D="DAV:">
       <D:response xmlns:R="http://ns.example.com/boxschema/">
         <D:href>http://www.example.com/file</D:href>
         <D:propstat>
           <D:prop>
             <R:bigbox>
               <R:BoxType>Box type A</R:BoxType>
             </R:bigbox>
             <R:author>
               <R:Name>J.J. Johnson</R:Name>
             </R:author>
           </D:prop>
           <D:status>HTTP/1.1 200 OK</D:status>
         </D:propstat>
         <D:propstat>
           <D:prop><R:DingALing/><R:Random/></D:prop>
           <D:status>HTTP/1.1 403 Forbidden</D:status>
           <D:responsedescription> The user does not have access to the
      DingALing property.
           </D:responsedescription>
         </D:propstat>
       </D:response>
       <D:responsedescription> There has been an access violation error.
       </D:responsedescription>
     </D:multistatus>"#;
    let ms = decode(body);
    let box_ns = "http://ns.example.com/boxschema/";
    let response = &ms.responses[0];
    let bigbox = response.prop(&QName::new(box_ns, "bigbox")).unwrap();
    assert_eq!(
        bigbox.child(&QName::new(box_ns, "BoxType")).unwrap().text(),
        "Box type A"
    );
    assert_eq!(
        response.prop_status(&QName::new(box_ns, "Random")),
        Some(StatusCode::FORBIDDEN)
    );
    assert!(
        response.propstats[1]
            .description
            .as_deref()
            .unwrap()
            .contains("DingALing")
    );
    assert!(
        ms.description
            .as_deref()
            .unwrap()
            .contains("access violation")
    );
}

#[test]
fn rfc4918_9_2_2_proppatch_failed_dependency() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
   <D:multistatus xmlns:D="DAV:"
           xmlns:Z="http://ns.example.com/standards/z39.50/">
     <D:response>
       <D:href>http://www.example.com/bar.html</D:href>
       <D:propstat>
         <D:prop><Z:Authors/></D:prop>
         <D:status>HTTP/1.1 424 Failed Dependency</D:status>
       </D:propstat>
       <D:propstat>
         <D:prop><Z:Copyright-Owner/></D:prop>
         <D:status>HTTP/1.1 409 Conflict</D:status>
       </D:propstat>
       <D:responsedescription> Copyright Owner cannot be deleted or
         altered.</D:responsedescription>
     </D:response>
   </D:multistatus>"#;
    let ms = decode(body);
    let response = &ms.responses[0];
    let z = "http://ns.example.com/standards/z39.50/";
    assert_eq!(
        response.prop_status(&QName::new(z, "Authors")),
        Some(StatusCode::FAILED_DEPENDENCY)
    );
    assert_eq!(
        response.prop_status(&QName::new(z, "Copyright-Owner")),
        Some(StatusCode::CONFLICT)
    );
    assert!(response.description.is_some());
}

#[test]
fn rfc4918_9_6_2_delete_with_a_locked_member() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
     <d:multistatus xmlns:d="DAV:">
       <d:response>
         <d:href>http://www.example.com/container/resource3</d:href>
         <d:status>HTTP/1.1 423 Locked</d:status>
         <d:error><d:lock-token-submitted/></d:error>
       </d:response>
     </d:multistatus>"#;
    let ms = decode(body);
    let response = &ms.responses[0];
    assert_eq!(response.status, Some(StatusCode::LOCKED));
    assert!(response.propstats.is_empty());
    assert_eq!(
        response.error.as_ref().unwrap().conditions,
        [Condition::LockTokenSubmitted(vec![])]
    );
}

#[test]
fn rfc4918_13_status_response_with_several_hrefs_and_a_location() {
    let body = br#"<multistatus xmlns="DAV:">
      <response><href>/a</href><href>/b%20c</href><href>/d</href><status>HTTP/1.1 200 OK</status></response>
      <response><href>/old/</href><status>HTTP/1.1 301 Moved Permanently</status><location><href>/new/</href></location></response>
    </multistatus>"#;
    let ms = decode(body);
    assert_eq!(
        ms.responses[0].hrefs,
        [Href::new("/a"), Href::new("/b c"), Href::new("/d")]
    );
    assert_eq!(ms.responses[0].hrefs[1].as_str(), "/b%20c");
    assert_eq!(ms.responses[1].status, Some(StatusCode::MOVED_PERMANENTLY));
    assert_eq!(ms.responses[1].location, Some(Href::new("/new/")));
}

#[test]
fn rfc6578_3_8_sync_collection_changes_and_removals() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
   <D:multistatus xmlns:D="DAV:">
     <D:response>
       <D:href
   >http://webdav.example.com/home/cyrusdaboo/test.doc</D:href>
       <D:propstat>
         <D:prop>
           <D:getetag>"00001-abcd1"</D:getetag>
         </D:prop>
         <D:status>HTTP/1.1 200 OK</D:status>
       </D:propstat>
     </D:response>
     <D:response>
       <D:href
   >http://webdav.example.com/home/cyrusdaboo/vcard.vcf</D:href>
       <D:status>HTTP/1.1 404 Not Found</D:status>
     </D:response>
     <D:sync-token>http://example.com/ns/sync/1234</D:sync-token>
   </D:multistatus>"#;
    let ms = decode(body);
    assert_eq!(ms.responses.len(), 2);
    assert_eq!(
        ms.responses[0].prop(&QName::DAV_GETETAG).unwrap().text(),
        "\"00001-abcd1\""
    );
    assert_eq!(ms.responses[1].status, Some(StatusCode::NOT_FOUND));
    assert_eq!(
        ms.sync_token.as_deref(),
        Some("http://example.com/ns/sync/1234")
    );
    let base: http::Uri = "http://webdav.example.com/home/cyrusdaboo/"
        .parse()
        .unwrap();
    assert_eq!(
        ms.responses[1].hrefs[0].path(&base).unwrap(),
        "/home/cyrusdaboo/vcard.vcf"
    );
}

#[test]
fn rfc6578_3_2_invalid_sync_token() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
   <D:error xmlns:D="DAV:">
     <D:valid-sync-token/>
   </D:error>"#;
    assert_eq!(
        DavError::decode(body).unwrap().conditions,
        [Condition::ValidSyncToken]
    );
}

#[test]
fn rfc6578_truncated_result_507() {
    let body = br#"<D:multistatus xmlns:D="DAV:">
     <D:response><D:href>/home/c/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>
       <D:error><D:number-of-matches-within-limits/></D:error></D:response>
     <D:sync-token>http://example.com/ns/sync/1233</D:sync-token></D:multistatus>"#;
    let ms = decode(body);
    assert_eq!(
        ms.responses[0].status,
        Some(StatusCode::INSUFFICIENT_STORAGE)
    );
    assert!(
        ms.responses[0]
            .error
            .as_ref()
            .unwrap()
            .has(&Condition::NumberOfMatchesWithinLimits)
    );
}

#[test]
fn rfc4791_7_9_1_multiget_with_a_missing_resource() {
    let body = b"<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n\
   <D:multistatus xmlns:D=\"DAV:\"\r\n\
                  xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\r\n\
     <D:response>\r\n\
       <D:href>http://cal.example.com/bernard/work/abcd1.ics</D:href>\r\n\
       <D:propstat>\r\n\
         <D:prop>\r\n\
           <D:getetag>\"fffff-abcd1\"</D:getetag>\r\n\
           <C:calendar-data>BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:abcd1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n</C:calendar-data>\r\n\
         </D:prop>\r\n\
         <D:status>HTTP/1.1 200 OK</D:status>\r\n\
       </D:propstat>\r\n\
     </D:response>\r\n\
     <D:response>\r\n\
       <D:href>http://cal.example.com/bernard/work/mtg1.ics</D:href>\r\n\
       <D:status>HTTP/1.1 404 Not Found</D:status>\r\n\
     </D:response>\r\n\
   </D:multistatus>\r\n";
    let ms = decode(body);
    let data = ms.responses[0]
        .prop(&QName::CALDAV_CALENDAR_DATA)
        .unwrap()
        .text();
    // XML end-of-line handling: the raw CRLFs arrive as LF.
    assert_eq!(
        data,
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:abcd1\nEND:VEVENT\nEND:VCALENDAR\n"
    );
    assert_eq!(ms.responses[1].status, Some(StatusCode::NOT_FOUND));
    assert!(ms.responses[1].propstats.is_empty());
}

#[test]
fn rfc4791_5_3_2_1_no_uid_conflict() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
   <D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
     <C:no-uid-conflict><D:href>/bernard/work/abcd2.ics</D:href></C:no-uid-conflict>
   </D:error>"#;
    let error = DavError::decode(body).unwrap();
    assert_eq!(
        error.conditions,
        [Condition::NoUidConflict(Some(Href::new(
            "/bernard/work/abcd2.ics"
        )))]
    );
    let body = br#"<error xmlns="DAV:"><supported-calendar-data xmlns="urn:ietf:params:xml:ns:caldav"/></error>"#;
    assert_eq!(
        DavError::decode(body).unwrap().conditions,
        [Condition::SupportedCalendarData]
    );
}

#[test]
fn crlf_in_cdata_becomes_lf_and_only_escaped_cr_survives() {
    let cdata = b"<multistatus xmlns='DAV:'><response><href>/a</href><propstat><prop>\
        <calendar-data xmlns='urn:ietf:params:xml:ns:caldav'><![CDATA[BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n]]></calendar-data>\
        </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
    let escaped = b"<multistatus xmlns='DAV:'><response><href>/a</href><propstat><prop>\
        <calendar-data xmlns='urn:ietf:params:xml:ns:caldav'>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n</calendar-data>\
        </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
    let text = |body: &[u8]| {
        decode(body).responses[0]
            .prop(&QName::CALDAV_CALENDAR_DATA)
            .unwrap()
            .text()
            .into_owned()
    };
    assert_eq!(text(cdata), "BEGIN:VCALENDAR\nEND:VCALENDAR\n");
    assert_eq!(text(escaped), "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
}

#[test]
fn default_namespaces_redeclared_prefixes_comments_and_pis() {
    let body = br#"<?xml version="1.0"?>
<!-- a comment before the root -->
<?some-pi with data?>
<x:multistatus xmlns:x="DAV:" xmlns="urn:not-dav">
  <!-- inside -->
  <x:response>
    <href xmlns="DAV:">/a.ics</href>
    <x:propstat>
      <x:prop>
        <x:getetag><!-- split -->"e<?pi?>1"</x:getetag>
        <x xmlns:x="urn:other"><x:inner/></x>
        <y:displayname xmlns:y="DAV:">A &amp; B</y:displayname>
        <plain xmlns="">p</plain>
      </x:prop>
      <x:status>HTTP/1.1 200 OK</x:status>
    </x:propstat>
  </x:response>
</x:multistatus>
<!-- after -->
"#;
    let ms = decode(body);
    let response = &ms.responses[0];
    assert_eq!(response.hrefs[0].as_str(), "/a.ics");
    assert_eq!(response.prop(&QName::DAV_GETETAG).unwrap().text(), "\"e1\"");
    let other = response.prop(&QName::new("urn:not-dav", "x")).unwrap();
    assert_eq!(
        other.elements().next().unwrap().name,
        QName::new("urn:other", "inner")
    );
    assert_eq!(
        response.prop(&QName::DAV_DISPLAYNAME).unwrap().text(),
        "A & B"
    );
    assert_eq!(response.prop(&QName::new("", "plain")).unwrap().text(), "p");
}

#[test]
fn one_odd_response_does_not_fail_the_document() {
    let body = br#"<multistatus xmlns="DAV:">
      <response><href>/no-etag.ics</href><propstat><prop><getetag/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
      <response><href>/bad-status.ics</href><propstat><prop><getetag>"1"</getetag></prop><status>garbage</status></propstat></response>
      <response><href>/no-status.ics</href><propstat><prop><getetag>"2"</getetag></prop></propstat><unknown-thing/></response>
      <response><href>/ok.ics</href><propstat><prop><getetag>"3"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
    </multistatus>"#;
    let ms = decode(body);
    assert_eq!(ms.responses.len(), 4);
    assert!(ms.responses[0].prop(&QName::DAV_GETETAG).is_none());
    assert_eq!(ms.responses[1].propstats[0].status, None);
    assert_eq!(ms.responses[2].propstats[0].status, None);
    assert_eq!(ms.responses[2].extra[0].name, QName::dav("unknown-thing"));
    assert_eq!(
        ms.responses[3].prop(&QName::DAV_GETETAG).unwrap().text(),
        "\"3\""
    );
}

#[test]
fn streaming_yields_each_response_when_its_end_tag_arrives() {
    let body = br#"<multistatus xmlns="DAV:"><response><href>/1</href><status>HTTP/1.1 200 OK</status></response><response><href>/2</href><status>HTTP/1.1 200 OK</status></response></multistatus>"#;
    let first_end = body.windows(11).position(|w| w == b"</response>").unwrap() + 11;
    let mut decoder = StreamDecoder::new();
    decoder.feed(&body[..first_end - 1]).unwrap();
    assert!(decoder.poll().is_none());
    decoder.feed(&body[first_end - 1..first_end]).unwrap();
    assert_eq!(decoder.poll().unwrap().hrefs[0].as_str(), "/1");
    decoder.feed(&body[first_end..]).unwrap();
    assert_eq!(decoder.poll().unwrap().hrefs[0].as_str(), "/2");
    assert!(decoder.finish().unwrap().responses.is_empty());
}
