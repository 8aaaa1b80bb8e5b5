# Installs imgpipe into a private prefix, then configures, builds and runs examples/ as an
# outside project would: find_package(imgpipe CONFIG) and target imgpipe::imgpipe. Also
# checks the pkg-config file, and imports the installed Python package when it was built.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
set(ENV{LD_LIBRARY_PATH} "${prefix}/lib:$ENV{LD_LIBRARY_PATH}")
run(${WORK_DIR}/build/chain_example ${SOURCE_DIR}/examples/images/rocket.jpg ${WORK_DIR}/out.webp)
if(NOT EXISTS ${WORK_DIR}/out.webp)
  message(FATAL_ERROR "the example wrote no output")
endif()
run(${WORK_DIR}/build/yaml_example ${SOURCE_DIR}/examples/default.yaml
    ${SOURCE_DIR}/examples/images/chelsea.png ${WORK_DIR}/out2.webp)

file(GLOB pc_dirs ${prefix}/lib*/pkgconfig ${prefix}/lib/*/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "${pc_dirs}")
run(pkg-config --libs --cflags imgpipe)
if(NOT LAST_OUTPUT MATCHES "-limgpipe")
  message(FATAL_ERROR "pkg-config imgpipe gave: ${LAST_OUTPUT}")
endif()

# The Python package from the same install, found through its RPATH (no LD_LIBRARY_PATH).
if(PYTHON)
  set(ENV{LD_LIBRARY_PATH} "")
  set(ENV{PYTHONPATH} "${prefix}/${PYTHON_SITE}")
  run(${PYTHON} -c "import imgpipe, sys; assert imgpipe.__file__.startswith(sys.argv[1]), imgpipe.__file__; \
image = imgpipe.load(sys.argv[2]); out = imgpipe.Chain([{'resize': {'width': 64}}]).run(image); \
assert (out.width, out.channels) == (64, 3); print(imgpipe.__version__)"
      ${prefix} ${SOURCE_DIR}/examples/images/rocket.jpg)
endif()
message(STATUS "consumer build and run: ok")
