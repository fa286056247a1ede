//! AFL entry point for [`indoxrouter_fuzz::provider_response`].
fn main() {
    afl::fuzz!(|data: &[u8]| indoxrouter_fuzz::provider_response(data));
}
