# ctest driver: install the build tree into a prefix, then configure, build and run the consumer
# project against it. Arguments: -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= and -DCXX_FLAGS=, the
# build's compiler flags (a sanitizer build's library needs its runtime in the consumer too).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "failed (${code}): ${line}")
  endif()
endfunction()
file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DEXAMPLES_DIR=${SOURCE_DIR}/examples "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer ${SOURCE_DIR}/data/ring8.json)
run(${WORK_DIR}/build/own_solver_and_guidance --quick --out ${WORK_DIR})
