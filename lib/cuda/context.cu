// The plugin's management functions (imgpipe_cuda.h): devices and contexts, memory, copies,
// waiting and timing. Nothing here aborts or prints: every CUDA error becomes a status and
// words, in the caller's `why` buffer or the context's last error.

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "context.hpp"
#include "imgpipe_cuda.h"

namespace imgpipe::cuda {
namespace {

// CUDA 13 builds code for compute capability 7.5 (Turing) and newer only.
constexpr int kOldestArchitecture = 75;

void write(char* buffer, std::size_t size, const std::string& text) {
  if (!buffer || size == 0) return;
  const std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
  std::memcpy(buffer, text.data(), n);
  buffer[n] = '\0';
}

std::string cuda_version(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

// What the driver's library says of itself, when it loads: "" when it does not.
std::string driver_version() {
  void* library = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!library) return "";
  using GetVersion = int (*)(int*);
  GetVersion get = nullptr;
  void* symbol = dlsym(library, "cuDriverGetVersion");
  std::memcpy(&get, &symbol, sizeof get);  // object to function pointer (POSIX)
  int version = 0;
  std::string text = "an unknown CUDA version";
  if (get && get(&version) == 0 && version > 0) text = "CUDA " + cuda_version(version);
  dlclose(library);
  return text;
}

// Why cudaGetDeviceCount failed, in words.
std::string no_device_reason(cudaError_t result) {
  switch (result) {
    case cudaErrorNoDevice: return "no CUDA device: the NVIDIA driver is installed but sees no GPU";
    case cudaErrorInsufficientDriver: {
      const std::string driver = driver_version();
      if (driver.empty()) return "no NVIDIA driver: libcuda.so.1 cannot be loaded";
      return "the NVIDIA driver is too old: it supports " + driver + ", the plugin needs CUDA " +
             cuda_version(CUDART_VERSION) + " or a newer driver";
    }
    case cudaErrorSystemDriverMismatch:
      return "the NVIDIA driver's library (libcuda.so.1) and its kernel module are of different versions";
    default:
      return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(result) + ", " +
             cudaGetErrorString(result);
  }
}

// The usable devices (compute capability 7.5 or newer) as CUDA ordinals; `why` says why there
// are none.
int usable_devices(int* ordinals, int capacity, std::string& why) {
  int count = 0;
  const cudaError_t result = cudaGetDeviceCount(&count);
  if (result != cudaSuccess) {
    cudaGetLastError();  // a failed query leaves no error behind for later calls
    why = no_device_reason(result);
    return 0;
  }
  int usable = 0;
  std::string oldest;
  for (int d = 0; d < count; ++d) {
    int major = 0, minor = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    if (major * 10 + minor < kOldestArchitecture) {
      oldest = "sm_" + std::to_string(major) + std::to_string(minor);
      continue;
    }
    if (usable < capacity) ordinals[usable] = d;
    ++usable;
  }
  if (usable == 0)
    why = count == 0 ? "no CUDA device"
                     : std::to_string(count) + " CUDA device(s), none of compute capability 7.5 or newer (" +
                           oldest + ")";
  return usable;
}

// "NVIDIA H100 80GB HBM3 (sm_90, 80 GB)".
std::string describe(const cudaDeviceProp& p) {
  const double gigabytes = static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
  return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(std::lround(gigabytes)) + " GB)";
}

// What an image must be for the management functions: valid_image() and the bytes of a row.
std::size_t row_bytes(const imgpipe_cuda_image& image) {
  return static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels) *
         static_cast<std::size_t>(image.depth);
}

bool same_layout(const imgpipe_cuda_image& a, const imgpipe_cuda_image& b) {
  return a.width == b.width && a.height == b.height && a.channels == b.channels && a.depth == b.depth;
}

std::string layout(const imgpipe_cuda_image& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height) + ", " +
         std::to_string(image.channels) + " channel(s) of " + std::to_string(image.depth * 8) + " bits";
}

// A host → device or device → host copy of a whole image on the context's stream.
int copy_image(imgpipe_cuda_context* context, const imgpipe_cuda_image* from, const imgpipe_cuda_image* to,
               cudaMemcpyKind kind, const char* what) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!valid_image(from) || !valid_image(to))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, std::string(what) + ": both images must be valid");
  if (!same_layout(*from, *to))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                std::string(what) + ": the images differ: " + layout(*from) + " against " + layout(*to));
  if (const int status = check(context, cudaSetDevice(context->device), what)) return status;
  return check(context,
               cudaMemcpy2DAsync(to->data, to->step, from->data, from->step, row_bytes(*from),
                                 static_cast<std::size_t>(from->height), kind, context->stream),
               what);
}

}  // namespace
}  // namespace imgpipe::cuda

using namespace imgpipe::cuda;

extern "C" int imgpipe_cuda_abi_version(void) {
  return IMGPIPE_CUDA_ABI_VERSION;
}

extern "C" int imgpipe_cuda_device_count(char* why, size_t size) {
  std::string reason;
  const int count = usable_devices(nullptr, 0, reason);
  write(why, size, reason);
  return count;
}

extern "C" int imgpipe_cuda_create(int device, imgpipe_cuda_context** context, char* why, size_t size) {
  write(why, size, "");
  if (!context) {
    write(why, size, "create: no place for the context");
    return IMGPIPE_CUDA_BAD_ARGUMENT;
  }
  *context = nullptr;
  constexpr int kMostDevices = 64;
  int ordinals[kMostDevices];
  std::string reason;
  const int count = usable_devices(ordinals, kMostDevices, reason);
  if (count == 0) {
    write(why, size, reason);
    return IMGPIPE_CUDA_NO_DEVICE;
  }
  if (device < 0 || device >= count || device >= kMostDevices) {
    write(why, size,
          "create: device " + std::to_string(device) + " does not exist; there are " + std::to_string(count) +
              " usable device(s)");
    return IMGPIPE_CUDA_BAD_ARGUMENT;
  }
  auto* created = new (std::nothrow) imgpipe_cuda_context;
  if (!created) {
    write(why, size, "create: out of host memory");
    return IMGPIPE_CUDA_OUT_OF_MEMORY;
  }
  created->device = ordinals[device];
  cudaDeviceProp properties{};
  cudaMemPool_t pool = nullptr;
  // The stream-ordered pool keeps what the kernels give back instead of returning it to the
  // driver at every synchronisation, so that per-call scratch memory costs no allocation.
  std::uint64_t keep = ~static_cast<std::uint64_t>(0);
  int status = check(created, cudaSetDevice(created->device), "create: selecting the device");
  if (!status) status = check(created, cudaFree(nullptr), "create: starting the device");
  if (!status)
    status = check(created, cudaGetDeviceProperties(&properties, created->device),
                   "create: reading its properties");
  if (!status)
    status = check(created, cudaStreamCreateWithFlags(&created->stream, cudaStreamNonBlocking),
                   "create: making a stream");
  if (!status)
    status = check(created, cudaDeviceGetDefaultMemPool(&pool, created->device),
                   "create: finding its memory pool");
  if (!status)
    status = check(created, cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep),
                   "create: setting up its memory pool");
  if (status) {
    write(why, size, created->error);
    imgpipe_cuda_destroy(created);
    return status;
  }
  created->name = describe(properties);
  *context = created;
  return IMGPIPE_CUDA_OK;
}

extern "C" void imgpipe_cuda_destroy(imgpipe_cuda_context* context) {
  if (!context) return;
  if (cudaSetDevice(context->device) == cudaSuccess) {
    if (context->stream) cudaStreamSynchronize(context->stream);
    for (cudaEvent_t event : context->events) cudaEventDestroy(event);
    if (context->stream) cudaStreamDestroy(context->stream);
  }
  cudaGetLastError();
  delete context;
}

extern "C" const char* imgpipe_cuda_device_name(const imgpipe_cuda_context* context) {
  return context ? context->name.c_str() : "";
}

extern "C" const char* imgpipe_cuda_last_error(const imgpipe_cuda_context* context) {
  return context ? context->error.c_str() : "no context";
}

extern "C" int imgpipe_cuda_alloc(imgpipe_cuda_context* context, int width, int height, int channels,
                                  int depth, imgpipe_cuda_image* image) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!image) return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "alloc: no image to fill in");
  *image = {};
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4 || (depth != 1 && depth != 2))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "alloc: expected a positive size, 1..4 channels and 1 or 2 bytes a sample, got " +
                    std::to_string(width) + "x" + std::to_string(height) + ", " + std::to_string(channels) +
                    " channel(s), " + std::to_string(depth) + " byte(s)");
  if (const int status = check(context, cudaSetDevice(context->device), "alloc")) return status;
  void* data = nullptr;
  std::size_t pitch = 0;
  const std::size_t row = static_cast<std::size_t>(width) * static_cast<std::size_t>(channels * depth);
  const std::string what = "alloc " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                           std::to_string(channels) + " of " + std::to_string(depth * 8) + " bits";
  if (const int status =
          check(context, cudaMallocPitch(&data, &pitch, row, static_cast<std::size_t>(height)), what.c_str()))
    return status;
  *image = {data, pitch, width, height, channels, depth};
  return IMGPIPE_CUDA_OK;
}

extern "C" void imgpipe_cuda_free(imgpipe_cuda_context* context, imgpipe_cuda_image* image) {
  if (!context || !image || !image->data) return;
  // cudaFree waits for the work that may still read the image.
  if (cudaSetDevice(context->device) == cudaSuccess)
    check(context, cudaFree(image->data), "free");
  else
    cudaGetLastError();
  *image = {};
}

extern "C" int imgpipe_cuda_host_alloc(imgpipe_cuda_context* context, size_t bytes, void** memory) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!memory) return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "host_alloc: no place for the pointer");
  *memory = nullptr;
  if (bytes == 0)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "host_alloc: expected at least 1 byte, got 0");
  if (const int status = check(context, cudaSetDevice(context->device), "host_alloc")) return status;
  return check(context, cudaHostAlloc(memory, bytes, cudaHostAllocPortable),
               ("host_alloc " + std::to_string(bytes) + " bytes").c_str());
}

extern "C" void imgpipe_cuda_host_free(imgpipe_cuda_context* context, void* memory) {
  if (!context || !memory) return;
  check(context, cudaFreeHost(memory), "host_free");
}

extern "C" int imgpipe_cuda_upload(imgpipe_cuda_context* context, const imgpipe_cuda_image* host,
                                   const imgpipe_cuda_image* device) {
  return copy_image(context, host, device, cudaMemcpyHostToDevice, "upload");
}

extern "C" int imgpipe_cuda_download(imgpipe_cuda_context* context, const imgpipe_cuda_image* device,
                                     const imgpipe_cuda_image* host) {
  return copy_image(context, device, host, cudaMemcpyDeviceToHost, "download");
}

extern "C" int imgpipe_cuda_synchronize(imgpipe_cuda_context* context) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const int status = check(context, cudaSetDevice(context->device), "synchronize")) return status;
  return check(context, cudaStreamSynchronize(context->stream), "synchronize");
}

extern "C" int imgpipe_cuda_record(imgpipe_cuda_context* context, int* event) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!event) return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "record: no place for the event");
  if (const int status = check(context, cudaSetDevice(context->device), "record")) return status;
  cudaEvent_t created = nullptr;
  if (const int status = check(context, cudaEventCreate(&created), "record: creating an event"))
    return status;
  if (const int status = check(context, cudaEventRecord(created, context->stream), "record")) {
    cudaEventDestroy(created);
    return status;
  }
  context->events.push_back(created);
  *event = static_cast<int>(context->events.size() - 1);
  return IMGPIPE_CUDA_OK;
}

extern "C" int imgpipe_cuda_elapsed_ms(imgpipe_cuda_context* context, int from, int to,
                                       double* milliseconds) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  const int events = static_cast<int>(context->events.size());
  if (!milliseconds || from < 0 || to < 0 || from >= events || to >= events)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "elapsed_ms: expected two recorded events (0.." + std::to_string(events - 1) + "), got " +
                    std::to_string(from) + " and " + std::to_string(to));
  if (const int status = check(context, cudaSetDevice(context->device), "elapsed_ms")) return status;
  const cudaEvent_t end = context->events[static_cast<std::size_t>(to)];
  if (const int status = check(context, cudaEventSynchronize(end), "elapsed_ms: waiting for the event"))
    return status;
  float elapsed = 0;
  if (const int status =
          check(context, cudaEventElapsedTime(&elapsed, context->events[static_cast<std::size_t>(from)], end),
                "elapsed_ms"))
    return status;
  *milliseconds = elapsed;
  return IMGPIPE_CUDA_OK;
}
