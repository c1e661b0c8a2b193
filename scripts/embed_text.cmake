# Embeds a text file in C as a NUL-terminated array (the SVG writer's script):
#   cmake -DIN=file.js -DOUT=file.c -DNAME=symbol -P embed_text.cmake
# The text goes inside an XML CDATA section, which "]]>" would end early.
file(READ ${IN} text)
string(FIND "${text}" "]]>" cdata_end)
if(NOT cdata_end EQUAL -1)
	message(FATAL_ERROR "${IN} holds \"]]>\", which would end the SVG's CDATA section")
endif()
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" hex "${hex}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN} by scripts/embed_text.cmake: do not edit. */\n"
	"const unsigned char ${NAME}[] = {\n${hex}0x00 };\n")
# Only a changed text rebuilds what uses it.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.tmp)
