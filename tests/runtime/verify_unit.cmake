# Runs `systemd-analyze verify` on vigil.service with ExecStart pointing at the build.
file(READ ${UNIT} unit)
string(REPLACE "/usr/bin/vigil" "${BINARY}" unit "${unit}")
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/vigil.service "${unit}")
execute_process(COMMAND ${ANALYZE} verify ${WORK}/vigil.service
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT "${out}${err}" STREQUAL "")
  message(FATAL_ERROR "systemd-analyze verify failed (${rc}):\n${out}${err}")
endif()
