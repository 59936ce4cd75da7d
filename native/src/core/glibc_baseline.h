/* Forced into every source file of libhpccnn.so (CMake: -include). Binds the few glibc symbols
 * that newer glibc versions re-versioned to their oldest x86-64 version, so the library built on
 * Debian 12 (glibc 2.36) loads with glibc 2.17 and later: the pthread functions moved into libc
 * in 2.34 (found in libpthread before, which libgomp loads there), and libm's exp/log/pow got
 * faster versions in 2.27/2.29 with the same results contract. CI checks the highest version the
 * library needs (.ci/package-test). */
#ifndef HPCCNN_GLIBC_BASELINE_H
#define HPCCNN_GLIBC_BASELINE_H
/* No system header here: it would fix the feature macros before each file sets its own. The
 * linux-x64 package targets glibc (musl is another runtime identifier). */
#if defined(__linux__) && defined(__x86_64__) && !defined(HPCCNN_NO_GLIBC_BASELINE)
__asm__(".symver pthread_once,pthread_once@GLIBC_2.2.5");
__asm__(".symver pthread_key_create,pthread_key_create@GLIBC_2.2.5");
__asm__(".symver pthread_getspecific,pthread_getspecific@GLIBC_2.2.5");
__asm__(".symver pthread_setspecific,pthread_setspecific@GLIBC_2.2.5");
__asm__(".symver expf,expf@GLIBC_2.2.5");
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver logf,logf@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
__asm__(".symver powf,powf@GLIBC_2.2.5");
__asm__(".symver exp2f,exp2f@GLIBC_2.2.5");
__asm__(".symver log2f,log2f@GLIBC_2.2.5");
#endif
#endif
