// Builds the kernel body named by MG_BODY twice: for the baseline instruction set
// (name##_baseline) and, on x86-64, for AVX2 without FMA (name##_avx2), chosen at run time by
// each kernel's entry point (mg_has_avx2). Define MG_BODY as the body's file name first.
#define MG_NAME(name) name##_baseline
#include MG_BODY
#undef MG_NAME

#if defined(__x86_64__)
#define MG_NAME(name) __attribute__((target("avx2"))) name##_avx2
#include MG_BODY
#undef MG_NAME
#endif

#undef MG_BODY
