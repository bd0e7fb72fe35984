#![no_main]
//! `whalet_sim::fuzzing::infinia_envelope` (see its documentation for the input format).

libfuzzer_sys::fuzz_target!(|data: &[u8]| whalet_sim::fuzzing::infinia_envelope(data));
