/* render_infra: the fixed infrastructure of a stack, from the top-level mysql, rabbitmq
 * and zipkin sections: MySQL (30-mysql.yaml: ServiceAccount, the init scripts' ConfigMap
 * mysql-initdb, Services mysql and mysql-headless, a StatefulSet of one pod), the
 * mysql-init Job that re-runs the init scripts (31-mysql-init.yaml, named after their
 * digest), RabbitMQ (35-rabbitmq.yaml) and Zipkin (36-zipkin.yaml). Kept apart because
 * catalog components (issue 13) replace them.
 *
 * Conventions as in render_common.h. Pure: no I/O. */
#ifndef MANIFESTD_RENDER_INFRA_H
#define MANIFESTD_RENDER_INFRA_H

#include "render_common.h"

/* The data of the ConfigMap mysql-initdb for the enabled services of r (r->services):
 * {"01-databases.sql", "02-users.sh"}; a new object, NULL on allocation failure. */
json_t *infra_initdb_data(const struct render *r);

/* Each appends the objects of its file to out (a NODE_SEQ). 0 or -ENOMEM. */
int infra_mysql(struct arena *a, const struct render *r, struct node *out);
int infra_mysql_init(struct arena *a, const struct render *r, struct node *out);
int infra_rabbitmq(struct arena *a, const struct render *r, struct node *out);
int infra_zipkin(struct arena *a, const struct render *r, struct node *out);

#endif
