/* The OpenMP calls the library makes, for a serial build without an OpenMP runtime
 * (HPCCNN_OPENMP=OFF: clang's libFuzzer build, where Debian's clang has no libomp). */
#ifndef HPCCNN_SERIAL_OMP_H
#define HPCCNN_SERIAL_OMP_H
static inline int omp_get_num_procs(void) { return 1; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_level(void) { return 0; }
#endif
