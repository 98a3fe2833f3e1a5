//! The sandbox probes: each tries to reach something the host must not grant (a file, the
//! environment, a socket, a DNS lookup) or reports what it does grant (clocks), and answers a
//! JSON object saying what happened. None panics or traps: a denial is an answer, not an error.
//!
//! The network probes try two ways. `std` goes through Rust's standard library, which on
//! `wasm32-wasip1` (Debian's route in `cargo xtask build-guests`) refuses sockets by itself,
//! without asking the host, so it alone would prove nothing about the host. `wasi` calls the
//! host's `wasi:sockets` interfaces directly (bindings below), so a denial there is the host's.

use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Enough of `wasi:sockets` (0.2.0, which every 0.2 host serves) to try TCP, UDP and DNS, and
/// the two stream resources a TCP connection returns. Copied from the WASI 0.2 definitions,
/// trimmed to the functions used here: a component may import fewer functions than the host
/// offers, never different ones.
mod bindings {
    wit_bindgen::generate!({
        inline: r#"
            package powersweep:testbed-probes;

            package wasi:io@0.2.0 {
                interface streams {
                    resource input-stream;
                    resource output-stream;
                }
            }

            package wasi:sockets@0.2.0 {
                interface network {
                    resource network;
                    enum error-code {
                        unknown, access-denied, not-supported, invalid-argument, out-of-memory,
                        timeout, concurrency-conflict, not-in-progress, would-block,
                        invalid-state, new-socket-limit, address-not-bindable, address-in-use,
                        remote-unreachable, connection-refused, connection-reset,
                        connection-aborted, datagram-too-large, name-unresolvable,
                        temporary-resolver-failure, permanent-resolver-failure,
                    }
                    enum ip-address-family { ipv4, ipv6 }
                    type ipv4-address = tuple<u8, u8, u8, u8>;
                    type ipv6-address = tuple<u16, u16, u16, u16, u16, u16, u16, u16>;
                    variant ip-address { ipv4(ipv4-address), ipv6(ipv6-address) }
                    record ipv4-socket-address { port: u16, address: ipv4-address }
                    record ipv6-socket-address {
                        port: u16, flow-info: u32, address: ipv6-address, scope-id: u32,
                    }
                    variant ip-socket-address {
                        ipv4(ipv4-socket-address), ipv6(ipv6-socket-address),
                    }
                }
                interface instance-network {
                    use network.{network};
                    instance-network: func() -> network;
                }
                interface ip-name-lookup {
                    use network.{network, error-code, ip-address};
                    resource resolve-address-stream {
                        resolve-next-address: func() -> result<option<ip-address>, error-code>;
                    }
                    resolve-addresses: func(network: borrow<network>, name: string)
                        -> result<resolve-address-stream, error-code>;
                }
                interface tcp {
                    use wasi:io/streams@0.2.0.{input-stream, output-stream};
                    use network.{network, error-code, ip-socket-address};
                    resource tcp-socket {
                        start-connect: func(network: borrow<network>,
                            remote-address: ip-socket-address) -> result<_, error-code>;
                        finish-connect: func()
                            -> result<tuple<input-stream, output-stream>, error-code>;
                    }
                }
                interface tcp-create-socket {
                    use network.{error-code, ip-address-family};
                    use tcp.{tcp-socket};
                    create-tcp-socket: func(address-family: ip-address-family)
                        -> result<tcp-socket, error-code>;
                }
                interface udp {
                    use network.{network, error-code, ip-socket-address};
                    record outgoing-datagram {
                        data: list<u8>,
                        remote-address: option<ip-socket-address>,
                    }
                    resource udp-socket {
                        start-bind: func(network: borrow<network>,
                            local-address: ip-socket-address) -> result<_, error-code>;
                        finish-bind: func() -> result<_, error-code>;
                        %stream: func(remote-address: option<ip-socket-address>)
                            -> result<tuple<incoming-datagram-stream,
                                            outgoing-datagram-stream>, error-code>;
                    }
                    resource incoming-datagram-stream;
                    resource outgoing-datagram-stream {
                        check-send: func() -> result<u64, error-code>;
                        send: func(datagrams: list<outgoing-datagram>) -> result<u64, error-code>;
                    }
                }
                interface udp-create-socket {
                    use network.{error-code, ip-address-family};
                    use udp.{udp-socket};
                    create-udp-socket: func(address-family: ip-address-family)
                        -> result<udp-socket, error-code>;
                }
            }

            world probes {
                import wasi:sockets/instance-network@0.2.0;
                import wasi:sockets/ip-name-lookup@0.2.0;
                import wasi:sockets/tcp-create-socket@0.2.0;
                import wasi:sockets/udp-create-socket@0.2.0;
            }
        "#,
        world: "probes",
        generate_all,
    });
}

use bindings::wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress,
};
use bindings::wasi::sockets::udp::OutgoingDatagram;
use bindings::wasi::sockets::{
    instance_network, ip_name_lookup, tcp_create_socket, udp_create_socket,
};

/// How long the probes wait for the host to finish a connection or lookup (polls × pause):
/// only a host that grants them gets to wait.
const POLLS: u32 = 200;
const POLL_PAUSE: Duration = Duration::from_millis(10);

/// What the `udp` mode sends.
const PROBE_DATAGRAM: &[u8] = b"powersweep sandbox probe";

/// At most this many bytes of a file, names of a directory or variables go into an answer.
const MAX_BYTES: usize = 4096;
const MAX_NAMES: usize = 100;

fn string(task: &Value, key: &str, default: &str) -> String {
    task.get(key)
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_string()
}

fn port(task: &Value) -> u16 {
    task.get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(80)
}

fn io_denial(e: &std::io::Error) -> Value {
    json!({"denied": true, "error": e.to_string(), "kind": format!("{:?}", e.kind())})
}

fn wasi_denial(stage: &str, code: ErrorCode) -> Value {
    json!({"denied": true, "stage": stage, "error": code.name()})
}

/// `readFile` (`path`): the file's bytes, or why not.
pub fn read_file(task: &Value) -> Value {
    let path = string(task, "path", "/etc/passwd");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let shown = &bytes[..bytes.len().min(MAX_BYTES)];
            json!({"path": path, "denied": false, "bytes": bytes.len(),
                   "content": String::from_utf8_lossy(shown)})
        }
        Err(e) => with(io_denial(&e), "path", path.into()),
    }
}

/// `listDir` (`path`): the directory's entries, or why not.
pub fn list_dir(task: &Value) -> Value {
    let path = string(task, "path", "/");
    match std::fs::read_dir(&path) {
        Ok(entries) => {
            let names: Vec<String> = entries
                .take(MAX_NAMES)
                .map(|e| match e {
                    Ok(e) => e.file_name().to_string_lossy().into_owned(),
                    Err(e) => format!("<error: {e}>"),
                })
                .collect();
            json!({"path": path, "denied": false, "entries": names})
        }
        Err(e) => with(io_denial(&e), "path", path.into()),
    }
}

/// `env` (`name`): every variable and argument the guest sees, and the named variable.
pub fn env(task: &Value) -> Value {
    let name = string(task, "name", "PATH");
    let vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = vars
        .iter()
        .take(MAX_NAMES)
        .map(|(k, _)| k.as_str())
        .collect();
    let value = std::env::var_os(&name).map(|v| v.to_string_lossy().into_owned());
    let args: Vec<String> = std::env::args_os()
        .take(MAX_NAMES)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    json!({
        "denied": vars.is_empty() && value.is_none(),
        "count": vars.len(),
        "names": names,
        "name": name,
        "value": value,
        "args": args,
    })
}

/// `connect` (`host`, an IPv4 address, and `port`): a TCP connection, tried both ways.
pub fn connect(task: &Value) -> Value {
    let host = string(task, "host", "127.0.0.1");
    let Ok(ip) = host.parse::<Ipv4Addr>() else {
        return json!({"denied": true, "error": format!("`{host}` is not an IPv4 address")});
    };
    let port = port(task);
    let std_way = match TcpStream::connect_timeout(
        &SocketAddr::new(IpAddr::V4(ip), port),
        Duration::from_secs(2),
    ) {
        Ok(stream) => {
            json!({"denied": false, "peer": stream.peer_addr().ok().map(|a| a.to_string())})
        }
        Err(e) => io_denial(&e),
    };
    let wasi_way = wasi_connect(ip, port);
    both(std_way, wasi_way)
}

fn wasi_connect(ip: Ipv4Addr, port: u16) -> Value {
    let network = instance_network::instance_network();
    let socket = match tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
        Ok(socket) => socket,
        Err(code) => return wasi_denial("create-tcp-socket", code),
    };
    if let Err(code) = socket.start_connect(&network, ipv4(ip, port)) {
        return wasi_denial("start-connect", code);
    }
    // The host connects (and checks the address) only when asked how it went.
    for _ in 0..POLLS {
        match socket.finish_connect() {
            Ok(_streams) => return json!({"denied": false, "stage": "finish-connect"}),
            Err(ErrorCode::WouldBlock) => std::thread::sleep(POLL_PAUSE),
            Err(code) => return wasi_denial("finish-connect", code),
        }
    }
    json!({"denied": false, "stage": "finish-connect", "error": "still connecting"})
}

/// `udp` (`host`, an IPv4 address, and `port`): a datagram sent there, tried both ways.
pub fn udp(task: &Value) -> Value {
    let host = string(task, "host", "127.0.0.1");
    let Ok(ip) = host.parse::<Ipv4Addr>() else {
        return json!({"denied": true, "error": format!("`{host}` is not an IPv4 address")});
    };
    let port = port(task);
    let std_way = match UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|s| s.send_to(PROBE_DATAGRAM, (ip, port)))
    {
        Ok(sent) => json!({"denied": false, "sent": sent}),
        Err(e) => io_denial(&e),
    };
    let wasi_way = wasi_send(ip, port);
    both(std_way, wasi_way)
}

fn wasi_send(ip: Ipv4Addr, port: u16) -> Value {
    let network = instance_network::instance_network();
    let socket = match udp_create_socket::create_udp_socket(IpAddressFamily::Ipv4) {
        Ok(socket) => socket,
        Err(code) => return wasi_denial("create-udp-socket", code),
    };
    if let Err(code) = socket.start_bind(&network, ipv4(Ipv4Addr::LOCALHOST, 0)) {
        return wasi_denial("start-bind", code);
    }
    if let Err(code) = socket.finish_bind() {
        return wasi_denial("finish-bind", code);
    }
    let (_incoming, outgoing) = match socket.stream(Some(ipv4(ip, port))) {
        Ok(streams) => streams,
        Err(code) => return wasi_denial("stream", code),
    };
    if let Err(code) = outgoing.check_send() {
        return wasi_denial("check-send", code);
    }
    let datagram = OutgoingDatagram {
        data: PROBE_DATAGRAM.to_vec(),
        remote_address: None,
    };
    match outgoing.send(&[datagram]) {
        Ok(sent) => json!({"denied": sent == 0, "stage": "send", "datagrams": sent}),
        Err(code) => wasi_denial("send", code),
    }
}

/// `resolve` (`name`): a DNS lookup, tried both ways.
pub fn resolve(task: &Value) -> Value {
    let name = string(task, "name", "localhost");
    let std_way = match (name.as_str(), 80).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
            json!({"denied": false, "addresses": addrs})
        }
        Err(e) => io_denial(&e),
    };
    let network = instance_network::instance_network();
    let wasi_way = match ip_name_lookup::resolve_addresses(&network, &name) {
        Err(code) => wasi_denial("resolve-addresses", code),
        Ok(stream) => {
            let mut addresses = Vec::new();
            let mut error = None;
            // Polled with pauses rather than a pollable: only a host that grants lookups
            // gets here, and then the test fails anyway.
            for _ in 0..POLLS {
                match stream.resolve_next_address() {
                    Ok(Some(address)) => addresses.push(show(address)),
                    Ok(None) => break,
                    Err(ErrorCode::WouldBlock) => std::thread::sleep(POLL_PAUSE),
                    Err(code) => {
                        error = Some(code.name());
                        break;
                    }
                }
            }
            json!({"denied": addresses.is_empty(), "stage": "resolve-next-address",
                   "addresses": addresses, "error": error})
        }
    };
    with(both(std_way, wasi_way), "name", name.into())
}

/// `clock`: what the wall and monotonic clocks say. WASI grants both, by design.
pub fn clock() -> Value {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    let slept = started.elapsed();
    json!({
        "wallUnixMs": wall.as_ref().ok(),
        "wallError": wall.as_ref().err().map(ToString::to_string),
        "monotonicSleep5msNs": u64::try_from(slept.as_nanos()).unwrap_or(u64::MAX),
    })
}

fn ipv4(ip: Ipv4Addr, port: u16) -> IpSocketAddress {
    let [a, b, c, d] = ip.octets();
    IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (a, b, c, d),
    })
}

fn show(address: IpAddress) -> String {
    match address {
        IpAddress::Ipv4((a, b, c, d)) => Ipv4Addr::new(a, b, c, d).to_string(),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            std::net::Ipv6Addr::new(a, b, c, d, e, f, g, h).to_string()
        }
    }
}

/// One answer for both ways: denied only when both were.
fn both(std_way: Value, wasi_way: Value) -> Value {
    let denied = |v: &Value| v.get("denied").and_then(Value::as_bool).unwrap_or(false);
    json!({"denied": denied(&std_way) && denied(&wasi_way), "std": std_way, "wasi": wasi_way})
}

fn with(mut answer: Value, key: &str, value: Value) -> Value {
    if let Some(object) = answer.as_object_mut() {
        object.insert(key.into(), value);
    }
    answer
}
