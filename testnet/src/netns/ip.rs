//! The lab's plumbing: `ip` commands, TUN devices, unique names and subnets, and the
//! removal of namespaces that crashed labs left behind.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::NetnsError;

/// Where `ip netns` keeps its named namespaces.
const NETNS_DIR: &str = "/run/netns";
/// A lab namespace without its TUN device is stale once it is this old (a lab being made
/// has its device moved in within milliseconds).
const STALE_AFTER: Duration = Duration::from_secs(30);
/// The id's length: `ecert-` + id + `-h` must fit an interface name (15 bytes).
const ID_LEN: usize = 5;

/// Runs `ip ARGS`; its standard output, or what it printed on failure.
pub(super) fn ip(args: &[&str]) -> Result<String, NetnsError> {
    run("ip", args)
}

fn run(program: &str, args: &[&str]) -> Result<String, NetnsError> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| NetnsError::Command {
            command: command.clone(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(NetnsError::Command {
            command,
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether this process runs as root (effective user 0), from `/proc/self/status`.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Fails with [`NetnsError::Unavailable`], saying why, where a lab cannot be made.
pub(super) fn check_available() -> Result<(), NetnsError> {
    if !cfg!(target_os = "linux") {
        return Err(NetnsError::Unavailable(
            "network namespaces are a Linux feature".into(),
        ));
    }
    if !is_root() {
        return Err(NetnsError::Unavailable(
            "making network namespaces and TUN devices needs root".into(),
        ));
    }
    if let Err(e) = ip(&["-V"]) {
        return Err(NetnsError::Unavailable(format!(
            "the `ip` command (iproute2) does not run: {e}"
        )));
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err(NetnsError::Unavailable(
            "/dev/net/tun is missing (no TUN support)".into(),
        ));
    }
    Ok(())
}

/// The names `ip netns list` prints.
fn namespaces() -> Result<Vec<String>, NetnsError> {
    Ok(ip(&["netns", "list"])?
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Whether `name` is a lab's namespace: `ecert-` + id + `-` + node index.
fn is_lab_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("ecert-") else {
        return false;
    };
    let Some((id, index)) = rest.split_once('-') else {
        return false;
    };
    id.len() == ID_LEN
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
}

/// Deletes the namespaces of labs whose process is gone: a lab's namespace always holds
/// its TUN device while the lab lives, and the device vanishes with the process that
/// opened it. Processes still in such a namespace (nodes a crashed test left running) are
/// killed first.
pub(super) fn remove_stale() -> Result<(), NetnsError> {
    for name in namespaces()?.into_iter().filter(|n| is_lab_name(n)) {
        let age = std::fs::metadata(Path::new(NETNS_DIR).join(&name))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or(Duration::MAX);
        if age < STALE_AFTER {
            continue;
        }
        let links = ip(&["-n", &name, "-o", "link", "show"]).unwrap_or_default();
        if links.contains("ecert-") {
            continue;
        }
        remove_namespace(&name);
    }
    Ok(())
}

/// Kills what still runs in namespace `name` and deletes it (errors ignored: cleanup).
pub(super) fn remove_namespace(name: &str) {
    if let Ok(pids) = ip(&["netns", "pids", name]) {
        for pid in pids.split_whitespace() {
            let _ = run("kill", &["-KILL", pid]);
        }
    }
    let _ = ip(&["netns", "del", name]);
}

/// A lab id no namespace or device uses yet.
pub(super) fn fresh_id() -> Result<String, NetnsError> {
    let taken = namespaces()?;
    let links = ip(&["-o", "link", "show"])?;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().rotate_left(12);
    for attempt in 0u32..64 {
        let value = seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9)) & 0xf_ffff;
        let id = format!("{value:05x}");
        let prefix = format!("ecert-{id}-");
        if !taken.iter().any(|n| n.starts_with(&prefix)) && !links.contains(&prefix) {
            return Ok(id);
        }
    }
    Err(NetnsError::Layout("no free lab id".into()))
}

/// A subnet `10.231.S.0/24` that no address or route of this host uses.
pub(super) fn free_subnet(id: &str) -> Result<u8, NetnsError> {
    let used = format!(
        "{}\n{}",
        ip(&["-4", "-o", "addr", "show"])?,
        ip(&["-4", "route", "show", "table", "all"])?
    );
    let start = u32::from_str_radix(id, 16).unwrap_or(0) % 250;
    for step in 0..250 {
        let s = u8::try_from((start + step) % 250 + 1).unwrap_or(1);
        if !used.contains(&format!("10.231.{s}.")) {
            return Ok(s);
        }
    }
    Err(NetnsError::Layout(
        "every subnet 10.231.1-250.0/24 is in use on this host".into(),
    ))
}

/// `ip netns add name`; a refusal means namespaces cannot be made here.
pub(super) fn add_namespace(name: &str) -> Result<(), NetnsError> {
    ip(&["netns", "add", name])
        .map(drop)
        .map_err(|e| NetnsError::Unavailable(format!("cannot make a network namespace: {e}")))
}

/// Opens a new TUN device (IP packets, no header) in this process's namespace.
pub(super) fn open_tun(name: &str) -> Result<tun::Device, NetnsError> {
    let mut config = tun::Configuration::default();
    config.tun_name(name).layer(tun::Layer::L3);
    config.platform_config(|p| {
        p.ensure_root_privileges(false);
    });
    tun::create(&config)
        .map_err(|e| NetnsError::Unavailable(format!("cannot open a TUN device {name}: {e}")))
}

/// Moves device `device` into namespace `namespace`.
pub(super) fn move_into(device: &str, namespace: &str) -> Result<(), NetnsError> {
    ip(&["link", "set", "dev", device, "netns", namespace]).map(drop)
}

/// Gives `device` (in `namespace`, or this process's) its address in the lab's /24 and
/// brings it up, with the namespace's loopback.
pub(super) fn configure(
    namespace: Option<&str>,
    device: &str,
    address: std::net::Ipv4Addr,
) -> Result<(), NetnsError> {
    let cidr = format!("{address}/24");
    let with_ns = |args: &[&str]| -> Result<String, NetnsError> {
        match namespace {
            Some(ns) => {
                let mut all = vec!["-n", ns];
                all.extend_from_slice(args);
                ip(&all)
            }
            None => ip(args),
        }
    };
    with_ns(&["addr", "add", &cidr, "dev", device])?;
    with_ns(&["link", "set", "dev", device, "up"])?;
    if namespace.is_some() {
        with_ns(&["link", "set", "dev", "lo", "up"])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lab_names_are_taken_for_a_lab() {
        assert!(is_lab_name("ecert-0a1f3-0"));
        assert!(is_lab_name("ecert-0a1f3-12"));
        assert!(!is_lab_name("ecert-0a1f3-h"));
        assert!(!is_lab_name("ecert-0a1f-0"));
        assert!(!is_lab_name("ecert-zzzzz-0"));
        assert!(!is_lab_name("other-0a1f3-0"));
        assert!(!is_lab_name("ecert-0a1f3"));
    }
}
