//! The MPI driver (feature `mpi`).
