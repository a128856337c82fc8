//! Files the command line reads, where `-` means standard input.

use std::io::Read;
use std::path::Path;

pub fn read(path: &Path) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
}
