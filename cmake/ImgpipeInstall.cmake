# `cmake --install` gives find_package(imgpipe CONFIG) with imgpipe::imgpipe, a pkg-config
# file and the public headers, into any prefix: the pkg-config file finds its prefix from its
# own folder and the installed binaries find libimgpipe through $ORIGIN, so an install can be
# moved. The build tree exports the same targets (imgpipe_DIR=<build>). `cpack -G DEB` (or
# `tools/dev package`) makes three Debian packages from the same rules:
#   libimgpipe0     component lib  the shared library and its cv::dnn plugin
#   libimgpipe-dev  component dev  headers, the CMake package, the pkg-config file
#   imgpipe         component cli  the command-line tool, its `serve` plugin, man pages and completion
# The Python module (component python) installs with `cmake --install` only: Debian's python3
# does not look in the site-packages folder a package under /usr would use.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS imgpipe EXPORT imgpipeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lib
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS imgpipe_dnn LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/imgpipe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/include/imgpipe/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/imgpipe COMPONENT dev)
if(IMGPIPE_BUILD_TOOLS)
  file(RELATIVE_PATH bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
  set_target_properties(imgpipe_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${bin_to_lib}")
  install(TARGETS imgpipe_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
  if(TARGET imgpipe_serve)
    install(TARGETS imgpipe_serve LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT cli)
  endif()
endif()

set(IMGPIPE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/imgpipe)
install(EXPORT imgpipeTargets NAMESPACE imgpipe:: DESTINATION ${IMGPIPE_CMAKE_DIR} COMPONENT dev)
# The build tree as a package too: -Dimgpipe_DIR=<build> finds imgpipeConfig.cmake beside this
# export, with include paths into the source and build trees.
export(EXPORT imgpipeTargets NAMESPACE imgpipe:: FILE ${PROJECT_BINARY_DIR}/imgpipeTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/imgpipeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/imgpipeConfig.cmake INSTALL_DESTINATION ${IMGPIPE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/imgpipeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/imgpipeConfig.cmake ${PROJECT_BINARY_DIR}/imgpipeConfigVersion.cmake
        DESTINATION ${IMGPIPE_CMAKE_DIR} COMPONENT dev)

# pkg-config: the prefix is the pkgconfig folder's ancestor, so the file holds no absolute path.
set(IMGPIPE_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH IMGPIPE_PC_TO_PREFIX /${IMGPIPE_PC_DIR} /)
string(REGEX REPLACE "/$" "" IMGPIPE_PC_TO_PREFIX "${IMGPIPE_PC_TO_PREFIX}")
# A static libimgpipe needs its dependencies on the link line (`pkg-config --static`); a shared
# one does not, and naming them would make every consumer install their -dev packages.
set(IMGPIPE_PC_PRIVATE "")
if(NOT BUILD_SHARED_LIBS)
  set(IMGPIPE_PC_PRIVATE "Requires.private: vips libwebp libwebpmux libwebpdemux libpng lcms2 libjpeg zlib yaml-cpp fmt libxxhash tbb")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/imgpipe.pc.in ${PROJECT_BINARY_DIR}/imgpipe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/imgpipe.pc DESTINATION ${IMGPIPE_PC_DIR} COMPONENT dev)

# Debian packages. dpkg-shlibdeps derives each package's dependencies from the libraries its
# files link; libvips is loaded with dlopen on x86-64 (lib/vips/lazy_vips.cpp), so it is named
# by hand, and the -dev package needs OpenCV's headers and opencv4.pc: the public headers use
# cv::Mat.
set(CPACK_PACKAGE_NAME imgpipe)
set(CPACK_PACKAGE_VENDOR imgpipe)
set(CPACK_PACKAGE_CONTACT "imgpipe maintainers <imgpipe@users.noreply.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "Resize, colour, sharpen, watermark, palette variations, pop art, dithering, enhanced black and white, "
    "background removal and SVG vectorisation, described once as a YAML chain and run in bounded memory.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev cli)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The CLI links libimgpipe.so.0 from the lib package being built beside it: a private library
# to dpkg-shlibdeps, which the component dependency below covers.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/lib)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_LIB_PACKAGE_NAME libimgpipe${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libimgpipe-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME imgpipe)
if(IMGPIPE_LAZY_VIPS)
  set(CPACK_DEBIAN_LIB_PACKAGE_DEPENDS "libvips42")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libopencv-dev")
set(CPACK_DEBIAN_LIB_PACKAGE_RECOMMENDS "fonts-dejavu-core")  # text watermarks' default font
include(CPack)
cpack_add_component(lib DISPLAY_NAME "imgpipe library")
cpack_add_component(dev DISPLAY_NAME "imgpipe development files" DEPENDS lib)
cpack_add_component(cli DISPLAY_NAME "imgpipe command-line tool" DEPENDS lib)
