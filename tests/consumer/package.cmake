# Makes the Debian packages with CPack from this build (as `tools/dev package` does) and checks
# them as apt would see them: the three packages exist, their dependencies come from
# dpkg-shlibdeps plus the ones named by hand, apt can resolve them on this machine, and the CLI
# unpacked from them (without installing anything) runs on a real photo.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/run_checked.cmake)

run(cpack -G DEB --config ${BINARY_DIR}/CPackConfig.cmake -B ${WORK_DIR})
file(GLOB debs ${WORK_DIR}/*.deb)
foreach(name libimgpipe0 libimgpipe-dev imgpipe)
  file(GLOB deb ${WORK_DIR}/${name}_${VERSION}_*.deb)
  if(NOT deb)
    message(FATAL_ERROR "cpack made no ${name} package; it made: ${debs}")
  endif()
  set(deb_${name} ${deb})
  run(dpkg-deb -f ${deb} Depends)
  set(depends_${name} "${LAST_OUTPUT}")
  message(STATUS "${name}: Depends: ${LAST_OUTPUT}")
endforeach()

function(expect_depends package pattern)
  if(NOT depends_${package} MATCHES "${pattern}")
    message(FATAL_ERROR "${package} does not depend on ${pattern}: ${depends_${package}}")
  endif()
endfunction()
expect_depends(libimgpipe0 "libopencv-core[0-9.]+")  # from dpkg-shlibdeps
expect_depends(libimgpipe0 "libvips42")               # loaded with dlopen, named by hand
expect_depends(libimgpipe-dev "libimgpipe0 \\(= ${VERSION}\\)")
expect_depends(libimgpipe-dev "libopencv-dev")
expect_depends(imgpipe "libcpp-httplib[0-9.]+")  # imgpipe serve, from dpkg-shlibdeps
expect_depends(imgpipe "libimgpipe0 \\(= ${VERSION}\\)")

run(dpkg-deb -c ${deb_imgpipe})
foreach(file ./usr/bin/imgpipe ./usr/share/man/man1/imgpipe.1 ./usr/share/man/man1/imgpipe-batch.1
        ./usr/share/bash-completion/completions/imgpipe ./usr/share/zsh/vendor-completions/_imgpipe)
  string(FIND "${LAST_OUTPUT}" "${file}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the imgpipe package has no ${file}:\n${LAST_OUTPUT}")
  endif()
endforeach()
run(dpkg-deb -c ${deb_libimgpipe-dev})
foreach(file /include/imgpipe/imgpipe.hpp /cmake/imgpipe/imgpipeConfig.cmake /pkgconfig/imgpipe.pc)
  string(FIND "${LAST_OUTPUT}" "${file}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the libimgpipe-dev package has no ${file}:\n${LAST_OUTPUT}")
  endif()
endforeach()

# apt resolves the three packages against this machine's archive (a simulation: nothing is
# installed).
find_program(APT_GET apt-get)
if(APT_GET)
  run(${APT_GET} install -s --no-install-recommends ${deb_libimgpipe0} ${deb_libimgpipe-dev} ${deb_imgpipe})
endif()

# The library and the CLI unpacked into a scratch root: the binary finds libimgpipe through
# its $ORIGIN RPATH and runs a chain.
set(root ${WORK_DIR}/root)
run(dpkg-deb -x ${deb_libimgpipe0} ${root})
run(dpkg-deb -x ${deb_imgpipe} ${root})
set(ENV{LD_LIBRARY_PATH} "")
run(${root}/usr/bin/imgpipe run ${SOURCE_DIR}/examples/default.yaml ${SOURCE_DIR}/examples/images/rocket.jpg
    ${WORK_DIR}/out.webp)
if(NOT EXISTS ${WORK_DIR}/out.webp)
  message(FATAL_ERROR "the packaged imgpipe wrote no output")
endif()
message(STATUS "Debian packages: ok")
