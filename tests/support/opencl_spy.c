/* An OpenCL runtime for tests that records which kernels run: OpenCV loads it in place of
 * libOpenCL.so.1 (OPENCV_OPENCL_RUNTIME=path), finds every OpenCL function in libOpenCL.so.1,
 * which this library links, except clEnqueueNDRangeKernel, which is here: it notes the kernel's
 * name and passes the call on. A test then knows that a result came from an OpenCL device, and
 * from which kernels, instead of trusting that OpenCV did not fall back to the CPU. */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int kernels_run;
static char names[8192];

static void note(const char* name) {
  pthread_mutex_lock(&lock);
  ++kernels_run;
  if (strlen(names) + strlen(name) + 2 < sizeof names) {
    strcat(names, name);
    strcat(names, " ");
  }
  pthread_mutex_unlock(&lock);
}

typedef cl_int (*Enqueue)(cl_command_queue, cl_kernel, cl_uint, const size_t*, const size_t*, const size_t*,
                          cl_uint, const cl_event*, cl_event*);

CL_API_ENTRY cl_int CL_API_CALL clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims,
                                                       const size_t* offset, const size_t* global,
                                                       const size_t* local, cl_uint waits,
                                                       const cl_event* wait_list, cl_event* event) {
  static Enqueue real;
  char name[256] = "?";
  if (!real)
    real = (Enqueue)dlsym(dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_NOLOAD), "clEnqueueNDRangeKernel");
  clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, sizeof name - 1, name, NULL);
  note(name);
  return real(queue, kernel, dims, offset, global, local, waits, wait_list, event);
}

typedef cl_int (*CopyRect)(cl_command_queue, cl_mem, cl_mem, const size_t*, const size_t*, const size_t*,
                           size_t, size_t, size_t, size_t, cl_uint, const cl_event*, cl_event*);

/* Copies between device buffers are device work too (a crop is one): noted as "copy_rect". */
CL_API_ENTRY cl_int CL_API_CALL clEnqueueCopyBufferRect(cl_command_queue queue, cl_mem src, cl_mem dst,
                                                        const size_t* src_origin, const size_t* dst_origin,
                                                        const size_t* region, size_t src_row_pitch,
                                                        size_t src_slice_pitch, size_t dst_row_pitch,
                                                        size_t dst_slice_pitch, cl_uint waits,
                                                        const cl_event* wait_list, cl_event* event) {
  static CopyRect real;
  if (!real)
    real = (CopyRect)dlsym(dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_NOLOAD), "clEnqueueCopyBufferRect");
  note("copy_rect");
  return real(queue, src, dst, src_origin, dst_origin, region, src_row_pitch, src_slice_pitch, dst_row_pitch,
              dst_slice_pitch, waits, wait_list, event);
}

/* How many kernels were enqueued since the last reset, and their names, space-separated. */
int imgpipe_spy_kernels_run(char* out, size_t size) {
  pthread_mutex_lock(&lock);
  const int count = kernels_run;
  if (size > 0) {
    strncpy(out, names, size - 1);
    out[size - 1] = '\0';
  }
  kernels_run = 0;
  names[0] = '\0';
  pthread_mutex_unlock(&lock);
  return count;
}
