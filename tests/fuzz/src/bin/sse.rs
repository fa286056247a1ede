//! AFL entry point for [`indoxrouter_fuzz::sse`].
fn main() {
    afl::fuzz!(|data: &[u8]| indoxrouter_fuzz::sse(data));
}
