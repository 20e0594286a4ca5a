# Warnings every gigflow target is built with (STYLE.md, "Tooling").
set(GF_WARNINGS
  -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
  -Wwrite-strings -Werror)
add_compile_options(${GF_WARNINGS})

if(GF_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(GF_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
if(GF_FUZZ)
  # Instrument the whole runtime for libFuzzer's coverage feedback (the fuzz
  # targets themselves add -fsanitize=fuzzer to get libFuzzer's main).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
