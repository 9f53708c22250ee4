//! Each engine has one home: rquickjs only in src/script/, rusqlite only in src/store/,
//! jsonwebtoken only in src/token.rs, hyper only in src/server.rs and src/http/.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn each_engine_is_named_only_in_its_home() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rules: [(&str, &[&str]); 5] = [
        ("rquickjs", &["script/"]),
        ("rusqlite", &["store/"]),
        ("jsonwebtoken", &["token.rs"]),
        ("hyper", &["server.rs", "http/"]),
        ("notify", &["reload.rs"]),
    ];
    let mut offences = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap();
        for (krate, homes) in rules {
            let named =
                text.contains(&format!("{krate}::")) || text.contains(&format!("use {krate}"));
            if named && !homes.iter().any(|h| rel.starts_with(h)) {
                offences.push(format!("{rel} names {krate}"));
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
    assert!(files.len() > 10, "found the sources");
}
