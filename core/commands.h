/* commands.h - the `dray` subcommands. Each returns the exit code. */
#ifndef DRAY_CORE_COMMANDS_H
#define DRAY_CORE_COMMANDS_H

int dray__cmd_run(int argc, char **argv);
int dray__cmd_check(int argc, char **argv);
int dray__cmd_plugins(int argc, char **argv);
int dray__cmd_convert(int argc, char **argv);
int dray__cmd_status(int argc, char **argv);
int dray__cmd_dlq(int argc, char **argv);

/* Reads a whole file ("-" = stdin). Caller owns *data. 0 or -1 (errno). */
int dray__read_file(const char *path, char **data, size_t *len);

#endif
