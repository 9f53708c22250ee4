//! The layer map of src/lib.rs holds for every `crate::` path, and each engine has one home:
//! rquickjs only in src/script/, rusqlite only in src/store/,
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

/// The layer map of `src/lib.rs`: each line is a layer, top first, its modules joined by ` ─ `.
fn layers() -> Vec<Vec<String>> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut lines = lib
        .lines()
        .map(|l| l.trim_start_matches("//!").trim_start());
    lines
        .find(|l| *l == "```text")
        .expect("the map's code block");
    lines
        .take_while(|l| *l != "```")
        .map(|l| {
            let names = l.split("  ").next().unwrap();
            names.split(" ─ ").map(|m| m.trim().to_owned()).collect()
        })
        .collect()
}

/// A module uses only modules on lower lines of the map, or to its right on its own line.
#[test]
fn every_module_uses_only_the_layers_below_it() {
    let map = layers();
    let rank = |m: &str| {
        map.iter()
            .enumerate()
            .find_map(|(line, mods)| mods.iter().position(|x| x == m).map(|pos| (line, pos)))
    };
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offences = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(from) = rank(&module) else {
            offences.push(format!("{module} is not on the map in src/lib.rs"));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let used: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if used.is_empty() || used == module {
                continue;
            }
            checked += 1;
            match rank(&used) {
                Some(to) if to.0 > from.0 || (to.0 == from.0 && to.1 > from.1) => {}
                Some(_) => offences.push(format!("{rel} uses {used}, which is not below {module}")),
                None => offences.push(format!("{rel} uses {used}, which is not on the map")),
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
    assert!(checked > 50, "found the crate:: paths ({checked})");
}

/// The map's own check can fail: an upward use is an offence.
#[test]
fn the_layer_map_is_read_from_lib_rs() {
    let map = layers();
    assert_eq!(map.first().unwrap()[0], "demo");
    assert_eq!(map.last().unwrap()[0], "oauth");
    let line = |m: &str| map.iter().position(|l| l.iter().any(|x| x == m)).unwrap();
    assert!(line("grant") < line("script") && line("script") < line("store"));
}
