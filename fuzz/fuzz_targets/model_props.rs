//! Arbitrary XML into typed CalDAV properties: decoding never panics, and a property that
//! decodes to a typed value encodes back to the same value.
#![no_main]

use caldav_model::property::{Property, PropertySet, Value};
use dav_xml::{Element, Multistatus};
use libfuzzer_sys::fuzz_target;

fn check(element: &Element, depth: usize) {
    if let Ok(prop) = Property::decode(element) {
        if !matches!(prop.value, Value::Xml(_)) {
            let again = Property::decode(&prop.encode()).expect("an encoded property decodes");
            assert_eq!(again, prop, "encode -> decode changed {}", element.name);
        }
    }
    if depth < 8 {
        for child in element.elements() {
            check(child, depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = Element::decode(data) {
        check(&root, 0);
    }
    if let Ok(multistatus) = Multistatus::decode(data) {
        for response in &multistatus.responses {
            let set = PropertySet::from_response(response);
            let _ = (set.displayname(), set.ctag(), set.supported_components());
        }
    }
});
