/* main.c - sensorgram's entry point: dispatches to one sub-command. */
#include "src/cli/cli_registry.h"
#include "src/cli/commands.h"

#include <stdio.h>
#include <string.h>

#ifndef SG_VERSION
#define SG_VERSION "0.1.0"
#endif

struct sg_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct sg_command sg_commands[] = {
    {"encode", cmd_encode, "turn sensor CSV segments into images (pyts encoders)"},
    {"train", cmd_train, "fine-tune a ResNet on images or encoded sensor data"},
    {"eval", cmd_eval, "evaluate a checkpoint: accuracy, log loss, confusion matrix"},
    {"predict", cmd_predict, "class probabilities for images or segments"},
    {"explain", cmd_explain, "what drove a prediction: occlusion of channels and time, Grad-CAM"},
    {"pretrain", cmd_pretrain, "self-supervised pretraining on unlabelled recordings"},
    {"lr-find", cmd_lr_find, "learning-rate range test"},
    {"features", cmd_features, "cache pooled ResNet features to .npy"},
    {"figures", cmd_figures, "draw confusion matrices, curves and galleries"},
    {"weights", cmd_weights, "fetch or inspect pretrained weights"},
};

static void print_usage(FILE *f)
{
    fprintf(f, "usage: sensorgram COMMAND [OPTIONS] ...\n\n"
               "Body-worn sensor recordings to images, and ResNet transfer learning on them.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof sg_commands / sizeof sg_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", sg_commands[i].name, sg_commands[i].summary);
    fprintf(f, "\nRun 'sensorgram COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    /* not in the usage: `make docs-options` writes docs/options.md with it */
    if (argc == 3 && strcmp(argv[1], "help") == 0 && strcmp(argv[2], "--markdown") == 0) {
        cli_help_markdown(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("sensorgram %s\n", SG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof sg_commands / sizeof sg_commands[0]; i++)
        if (strcmp(argv[1], sg_commands[i].name) == 0)
            return sg_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sensorgram: unknown command '%s' (see sensorgram --help)\n", argv[1]);
    return 2;
}
