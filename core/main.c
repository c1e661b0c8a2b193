/* Entry point: everything happens in cli__main(). */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli__main(argc, argv);
}
