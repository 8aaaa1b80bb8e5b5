# Every dependency is a Debian package installed by tools/setup-debian.sh.
find_package(PkgConfig REQUIRED)
# Only the OpenCV modules the library really uses: opencv_imgcodecs would pull in GDAL and
# ~120 shared libraries and cost ~300 ms at every process start (see docs/performance.md).
find_package(OpenCV 4.5 REQUIRED COMPONENTS core imgproc dnn)
find_package(TBB REQUIRED)
find_package(ZLIB REQUIRED)
# libjpeg-turbo (Debian libjpeg62-turbo-dev) for JPEG decoding at any M/8 scale (lib/io/jpeg_decode.hpp).
find_package(JPEG REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
pkg_check_modules(VIPS REQUIRED IMPORTED_TARGET vips>=8.12)
# With IMGPIPE_LAZY_VIPS libimgpipe links GLib and GObject only and loads libvips on first use.
pkg_check_modules(GOBJECT REQUIRED IMPORTED_TARGET gobject-2.0 glib-2.0)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp libwebpmux libwebpdemux)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
# lcms2 converts embedded ICC profiles as libvips does (lib/io/icc.hpp), without loading libvips.
pkg_check_modules(LCMS2 REQUIRED IMPORTED_TARGET lcms2)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)

# yaml-cpp 0.7 on Debian exports the target as `yaml-cpp` without a namespace.
if(TARGET yaml-cpp::yaml-cpp)
  set(IMGPIPE_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(IMGPIPE_YAML_TARGET yaml-cpp)
endif()
