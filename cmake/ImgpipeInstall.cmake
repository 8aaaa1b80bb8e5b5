# `cmake --install` gives find_package(imgpipe CONFIG) with imgpipe::imgpipe, a pkg-config
# file and the public headers.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS imgpipe EXPORT imgpipeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS imgpipe_dnn LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/imgpipe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/imgpipe/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/imgpipe)
if(IMGPIPE_BUILD_TOOLS)
  install(TARGETS imgpipe_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(IMGPIPE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/imgpipe)
install(EXPORT imgpipeTargets NAMESPACE imgpipe:: DESTINATION ${IMGPIPE_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/imgpipeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/imgpipeConfig.cmake INSTALL_DESTINATION ${IMGPIPE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/imgpipeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/imgpipeConfig.cmake ${PROJECT_BINARY_DIR}/imgpipeConfigVersion.cmake
        DESTINATION ${IMGPIPE_CMAKE_DIR})

configure_file(${PROJECT_SOURCE_DIR}/cmake/imgpipe.pc.in ${PROJECT_BINARY_DIR}/imgpipe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/imgpipe.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
