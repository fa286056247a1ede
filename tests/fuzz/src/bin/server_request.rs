//! AFL entry point for [`indoxrouter_fuzz::server_request`].
fn main() {
    afl::fuzz!(|data: &[u8]| indoxrouter_fuzz::server_request(data));
}
