//! Whole decoding of arbitrary bytes as a multistatus, a `DAV:error` and an element tree:
//! never a panic, and the multistatus agrees with the tree.

#![no_main]

use dav_xml::{DavError, Element, Multistatus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = Element::decode(data);
    let multistatus = Multistatus::decode(data);
    let _ = DavError::decode(data);
    // A document that is not a tree is not a multistatus either.
    if tree.is_err() {
        assert!(multistatus.is_err());
    }
    if let Ok(tree) = tree {
        // Whatever decodes re-encodes to a document that decodes to the same tree.
        let again = Element::decode(tree.encode().as_bytes()).expect("re-encoded tree decodes");
        assert_eq!(again, tree);
    }
});
