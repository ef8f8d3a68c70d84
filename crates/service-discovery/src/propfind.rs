//! The PROPFIND that confirms a context URL (RFC 4918 §9.1, RFC 5397 §3, RFC 6764 §6 step 4).
//!
//! ```text
//! PROPFIND /calendars HTTP/1.1
//! Depth: 0
//! Prefer: return=minimal
//!
//! <A:propfind xmlns:A="DAV:"><A:prop>
//!   <A:current-user-principal/> <A:principal-URL/> <A:resourcetype/>
//! </A:prop></A:propfind>
//! ```
//!
//! The body and the reading of the 207 answer live here, apart from the machine, because they
//! are the only XML the machine touches; both come from `dav-xml`.

use bytes::Bytes;
use dav_xml::{Element, Href, Multistatus, PropFind, QName};

/// `DAV:unauthenticated` (RFC 5397 §3): the current user is anonymous.
const DAV_UNAUTHENTICATED: QName = QName::from_static(dav_xml::name::DAV, "unauthenticated");
/// `DAV:principal-URL` (RFC 3744 §4.2): set on principal resources.
const DAV_PRINCIPAL_URL: QName = QName::from_static(dav_xml::name::DAV, "principal-URL");
/// `DAV:principal` (RFC 3744 §4): a resource type.
const DAV_PRINCIPAL: QName = QName::from_static(dav_xml::name::DAV, "principal");

/// What a 207 answer says about the user's principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalAnswer {
    /// A `DAV:current-user-principal` href, or the `DAV:principal-URL` of a context that is
    /// itself a principal, as sent.
    Principal(Href),
    /// `DAV:current-user-principal` holding `DAV:unauthenticated` (RFC 5397 §3).
    Unauthenticated,
    /// No principal at all.
    Missing,
}

/// The properties asked for, in the seed's order.
pub(crate) fn requested() -> PropFind {
    PropFind::Prop(vec![
        QName::DAV_CURRENT_USER_PRINCIPAL,
        DAV_PRINCIPAL_URL,
        QName::DAV_RESOURCETYPE,
    ])
}

/// The PROPFIND body.
pub(crate) fn request_body() -> Bytes {
    Bytes::from(requested().encode())
}

fn href_in(property: &Element) -> Option<Href> {
    let text = property.child(&QName::DAV_HREF)?.text();
    let text = text.trim();
    (!text.is_empty()).then(|| Href::new(text))
}

/// Reads the principal out of a 207 body.
pub(crate) fn read_principal(body: &[u8]) -> Result<PrincipalAnswer, String> {
    let multistatus = Multistatus::decode(body).map_err(|e| e.to_string())?;
    let mut unauthenticated = false;
    // A Depth: 0 answer has one response; a lenient reader takes the first that says something.
    for response in &multistatus.responses {
        if let Some(property) = response.prop(&QName::DAV_CURRENT_USER_PRINCIPAL) {
            if let Some(href) = href_in(property) {
                return Ok(PrincipalAnswer::Principal(href));
            }
            unauthenticated |= property.child(&DAV_UNAUTHENTICATED).is_some();
        }
    }
    if unauthenticated {
        return Ok(PrincipalAnswer::Unauthenticated);
    }
    // Servers without current-user-principal (QUIRKS.md #2): a context that is a principal
    // names itself through principal-URL or its resource type.
    for response in &multistatus.responses {
        if let Some(href) = response.prop(&DAV_PRINCIPAL_URL).and_then(href_in) {
            return Ok(PrincipalAnswer::Principal(href));
        }
        let is_principal = response
            .prop(&QName::DAV_RESOURCETYPE)
            .is_some_and(|types| types.child(&DAV_PRINCIPAL).is_some());
        if let (true, Some(href)) = (is_principal, response.href()) {
            return Ok(PrincipalAnswer::Principal(href.clone()));
        }
    }
    Ok(PrincipalAnswer::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_asks_for_the_principal_properties() {
        let body = request_body();
        let tree = Element::decode(&body).unwrap();
        assert_eq!(PropFind::from_element(&tree), requested());
    }

    #[test]
    fn current_user_principal_wins_over_principal_url() {
        let body = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x/</d:href>
            <d:propstat><d:prop>
            <d:principal-URL><d:href>/other/</d:href></d:principal-URL>
            <d:current-user-principal><d:href> /me/ </d:href></d:current-user-principal>
            </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
            </d:multistatus>"#;
        assert_eq!(
            read_principal(body).unwrap(),
            PrincipalAnswer::Principal(Href::new("/me/"))
        );
    }

    #[test]
    fn unauthenticated_and_missing_are_told_apart() {
        let anonymous = br#"<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop>
            <current-user-principal><unauthenticated/></current-user-principal></prop>
            <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        assert_eq!(
            read_principal(anonymous).unwrap(),
            PrincipalAnswer::Unauthenticated
        );
        let bare = br#"<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop>
            <resourcetype><collection/></resourcetype></prop>
            <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        assert_eq!(read_principal(bare).unwrap(), PrincipalAnswer::Missing);
        assert!(read_principal(b"<html>nope</html>").is_err());
    }
}
