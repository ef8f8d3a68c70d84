//! Whole decoding of arbitrary bytes as a multistatus, a `DAV:error` and an element tree:
//! never a panic, the multistatus agrees with the tree, and the owned decode (line ends
//! normalised in place, text shared with the body) agrees with the borrowed one.

#![no_main]

use dav_xml::{DavError, Element, Multistatus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = Element::decode(data);
    let multistatus = Multistatus::decode(data);
    let _ = DavError::decode(data);
    let owned = Multistatus::decode_owned(data.to_vec());
    match (&multistatus, &owned) {
        (Ok(borrowed), Ok(owned)) => assert_eq!(borrowed, owned),
        // Offsets count normalised bytes in the owned decode: equal without CR.
        (Err(borrowed), Err(owned)) if !data.contains(&b'\r') => assert_eq!(borrowed, owned),
        (Err(borrowed), Err(owned)) => {
            assert_eq!(
                std::mem::discriminant(borrowed),
                std::mem::discriminant(owned)
            );
        }
        _ => panic!("borrowed {multistatus:?}, owned {owned:?}"),
    }
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
