#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "apps/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"piconas: TinyML neural-architecture search, training and int8 deployment"};
  app.require_subcommand(1);
  piconas::apps::register_demo(app);
  piconas::apps::register_dnas(app);
  piconas::apps::register_export(app);
  piconas::apps::register_search(app);
  piconas::apps::register_score(app);
  piconas::apps::register_train(app);
  piconas::apps::register_eval(app);
  piconas::apps::register_info(app);
  piconas::apps::register_import(app);
  piconas::apps::register_run(app);
  piconas::apps::register_verify(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const piconas::Error& e) {
    std::fprintf(stderr, "piconas: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "piconas: unexpected error: %s\n", e.what());
    return 2;
  }
  // Results printed to a full disk or a closed pipe must not end in a silent success.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "piconas: error: cannot write standard output: %s\n",
                 std::strerror(errno));
    return 1;
  }
  return 0;
}
