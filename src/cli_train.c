/* cli_train.c - placeholder until the sub-command lands (being written). */
#include "commands.h"

#include <stdio.h>

int cmd_train(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "sensorgram %s: not built yet\n", argv[0]);
    return 1;
}
