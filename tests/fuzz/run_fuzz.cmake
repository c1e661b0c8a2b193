# Runs a libFuzzer target for a bounded time on a fresh copy of its seed corpus (ctest's fuzz.* tests).
#
# cmake -DFUZZER=binary -DSEEDS=dir -DWORK=dir [-DDICT=file] [-DSECONDS=30] -P run_fuzz.cmake
#
# The copy under WORK gains the inputs the run finds; the seeds in the source
# tree are never written. Crash inputs go to WORK/artifacts/.
foreach(var FUZZER SEEDS WORK)
	if(NOT DEFINED ${var})
		message(FATAL_ERROR "run_fuzz.cmake: -D${var}= is required")
	endif()
endforeach()
if(NOT DEFINED SECONDS)
	set(SECONDS 30)
endif()

file(REMOVE_RECURSE ${WORK}/corpus)
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORK}/corpus)

set(args -max_total_time=${SECONDS} -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
	-artifact_prefix=${WORK}/artifacts/)
if(DEFINED DICT)
	list(APPEND args -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${args} ${WORK}/corpus
		WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${FUZZER} failed (${rc}): the input is in ${WORK}/artifacts/; "
		"run the fuzzer on that file alone to reproduce")
endif()
