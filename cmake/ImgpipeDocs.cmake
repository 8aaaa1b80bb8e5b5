# The API reference of the public headers (docs/Doxyfile.in): the target imgpipe_api_docs
# writes it to build/docs/api/html/ (not part of ALL). Any doxygen warning, such as an
# undocumented public declaration or a broken reference, fails the target, and with it the
# docs.api_reference test. Included at the end of the top-level CMakeLists.txt, after
# enable_testing(), so that the test is registered.
find_package(Doxygen)

if(DOXYGEN_FOUND)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile @ONLY)
  add_custom_target(imgpipe_api_docs
    COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/docs/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "API reference: ${PROJECT_BINARY_DIR}/docs/api/html/index.html"
    VERBATIM)
endif()

if(IMGPIPE_BUILD_TESTS)
  if(DOXYGEN_FOUND)
    add_test(NAME docs.api_reference
             COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target imgpipe_api_docs)
    set_tests_properties(docs.api_reference PROPERTIES LABELS docs)
  else()
    add_test(NAME docs.api_reference
             COMMAND ${CMAKE_COMMAND} -E echo "docs.api_reference skipped: doxygen not found")
    set_tests_properties(docs.api_reference PROPERTIES LABELS docs SKIP_REGULAR_EXPRESSION "skipped:")
  endif()
endif()
