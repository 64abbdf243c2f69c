//! Native forward (strata-tensor kernels), VJP and JVP rules of this family.
