# ctest driver: install the build tree into a prefix, then configure, build and run the consumer
# project against it, and the same program without CMake from scoresde.pc. Arguments: -DBUILD_DIR=
# -DSOURCE_DIR= -DWORK_DIR= -DCXX= (the compiler) and -DCXX_FLAGS=, the
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
# Without CMake: the compiler, the program and pkg-config's flags, as a Makefile user would.
file(GLOB_RECURSE pc_files ${WORK_DIR}/prefix/scoresde.pc)
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND pkg-config --cflags --libs scoresde OUTPUT_VARIABLE pc_flags RESULT_VARIABLE code
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs scoresde failed (${code})")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
run(${CXX} ${cxx_flags} -O1 ${SOURCE_DIR}/tests/consumer/main.cpp -o ${WORK_DIR}/consumer_pkg_config ${pc_flags})
run(${WORK_DIR}/consumer_pkg_config ${SOURCE_DIR}/data/ring8.json)
