//! AFL entry point for [`indoxrouter_fuzz::provider_stream`].
fn main() {
    afl::fuzz!(|data: &[u8]| indoxrouter_fuzz::provider_stream(data));
}
