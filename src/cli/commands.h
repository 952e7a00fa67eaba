// commands.h — one function per subcommand, each in its own file; main.c dispatches.
// Each takes the arguments after the subcommand name (argv[0] is the subcommand)
// and returns the process exit code (0, 1 failed run, 2 bad usage).
#pragma once

int slm_cmd_train(int argc, char **argv);
int slm_cmd_tokenize(int argc, char **argv);
int slm_cmd_sample(int argc, char **argv);
int slm_cmd_export(int argc, char **argv);
int slm_cmd_info(int argc, char **argv);
int slm_cmd_bench(int argc, char **argv);
int slm_cmd_sweep(int argc, char **argv);
int slm_cmd_report(int argc, char **argv);
int slm_cmd_peak(int argc, char **argv);
int slm_cmd_predict(int argc, char **argv);
int slm_cmd_calibrate(int argc, char **argv);
int slm_cmd_advise(int argc, char **argv);
