/* commands.h - one function per sub-command (darknet style).
 *
 * Each cmd_* receives argv starting at the sub-command's name, parses
 * it with the option registry's parser (cli_registry.h: its options are
 * rows there, and so is its --help), reports errors as one line
 * "sensorgram CMD: message" on stderr, and returns the process exit
 * status (0 ok, 1 runtime failure, 2 usage error).
 */
#ifndef SG_COMMANDS_H
#define SG_COMMANDS_H

int cmd_encode(int argc, char **argv);   /* src/cli/cli_encode.c */
int cmd_train(int argc, char **argv);    /* src/cli/cli_train.c */
int cmd_eval(int argc, char **argv);     /* src/cli/cli_eval.c */
int cmd_predict(int argc, char **argv);  /* src/cli/cli_predict.c */
int cmd_lr_find(int argc, char **argv);  /* src/cli/cli_lr_find.c */
int cmd_features(int argc, char **argv); /* src/cli/cli_features.c */
int cmd_figures(int argc, char **argv);  /* src/cli/cli_figures.c */
int cmd_weights(int argc, char **argv);  /* src/cli/cli_weights.c */
int cmd_explain(int argc, char **argv);  /* src/cli/cli_explain.c */
int cmd_pretrain(int argc, char **argv); /* src/cli/cli_pretrain.c */

#endif
