// The one translation unit that compiles stb_image (Debian's libstb-dev), with only the PNG and
// BMP decoders (JPEG goes to libjpeg-turbo: data/jpeg_decode.h). A .png holding another format
// is refused by stb instead of reaching a decoder nobody asked for (its PNM header reader
// overflows a signed int; its JPEG reader writes past a Huffman table). Kept apart so sanitizer
// builds can exempt stb's own code (data/CMakeLists.txt).
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
