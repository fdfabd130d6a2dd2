#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| purl_fuzz::checkpoint(data));
