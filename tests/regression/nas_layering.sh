#!/usr/bin/env bash
# Layering of nas/ (ctest "nas_layering"): every #include of a nas/ header from a nas/ library
# must name that library or one it links, directly or transitively, per the table in
# nas/CMakeLists.txt (the one declaration of the order). Usage: nas_layering.sh SOURCE_DIR
set -euo pipefail
src=$1
declare -A links folder_of
# Table rows: "# | piconas_nas_x | sources | links |"
while IFS='|' read -r _ lib sources deps _; do
  lib=$(echo "$lib" | tr -d ' ')
  [[ $lib == piconas_nas_* ]] || continue
  short=${lib#piconas_nas_}
  deps=$(echo "$deps" | tr -d ' ' | tr ',' ' ')
  [ "$deps" = "-" ] && deps=""
  links[$short]="$deps"
  folder_of[$short]=$(echo "$sources" | awk '{print $1}' | tr -d ',')
done < <(grep '^# | piconas_nas_' "$src/nas/CMakeLists.txt")
[ ${#links[@]} -ge 8 ] || { echo "FAIL: could not read the library table of nas/CMakeLists.txt"; exit 1; }

closure() {  # closure LIB: LIB and everything it links, transitively
  local todo=("$1") seen=" "
  while [ ${#todo[@]} -gt 0 ]; do
    local l=${todo[0]}; todo=("${todo[@]:1}")
    [[ $seen == *" $l "* ]] && continue
    seen+="$l "
    for d in ${links[$l]}; do todo+=("$d"); done
  done
  echo "$seen"
}
library_of_header() {  # nas/search/x.h -> search; nas/builder.h, nas/checkpoint.h -> model
  case $1 in
    nas/builder.h | nas/checkpoint.h) echo model ;;
    nas/*/*) local f=${1#nas/}; echo "${f%%/*}" ;;
    *) echo "" ;;
  esac
}

status=0
for lib in "${!links[@]}"; do
  allowed=$(closure "$lib")
  if [ "$lib" = model ]; then files=("$src"/nas/builder.* "$src"/nas/checkpoint.*); else
    files=("$src/nas/${folder_of[$lib]%/}"/*.cpp "$src/nas/${folder_of[$lib]%/}"/*.h); fi
  for f in "${files[@]}"; do
    while read -r header; do
      target=$(library_of_header "$header")
      [ -z "$target" ] && continue
      if [[ $allowed != *" $target "* ]]; then
        echo "FAIL: ${f#$src/} (piconas_nas_$lib) includes $header (piconas_nas_$target), which it does not link"
        status=1
      fi
    done < <(grep -hoE '^#include "nas/[^"]+"' "$f" | sed -E 's/#include "(.*)"/\1/')
  done
done
[ $status -eq 0 ] && echo "nas_layering: every nas/ include follows the library order of nas/CMakeLists.txt"
exit $status
