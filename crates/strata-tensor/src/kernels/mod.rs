//! Slice-level CPU kernels: they take contiguous buffers and dimensions, never `Tensor`s, so
//! they can be tested against naive references and reused by the autograd and the IR.

pub mod conv;
pub mod gemm;
pub mod peak;
pub mod pool;
