import { Migration } from '@mikro-orm/migrations';

/**
 * A/B experiments: experiments, one exposure per member and experiment, the event log, one
 * conversion row per member and metric, and sharded running totals that results read.
 */
export class Migration20261129210000Experiments extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "experiment" ("id" uuid not null, "key" text not null, "name" text not null, "status" text check ("status" in ('DRAFT', 'RUNNING', 'STOPPED')) not null, "variants" jsonb not null, "primary_metric" text not null, "traffic_share" double precision not null, "created_at" timestamptz not null, "created_by" text not null, "started_at" timestamptz null, "stopped_at" timestamptz null, constraint "experiment_pkey" primary key ("id"), constraint experiment_traffic_share_check check ((traffic_share >= (0)::double precision) AND (traffic_share <= (1)::double precision)));`,
    );
    this.addSql(`alter table "experiment" add constraint "experiment_key_unique" unique ("key");`);

    this.addSql(
      `create table "experiment_exposure" ("experiment_id" uuid not null, "member_id" uuid not null, "variant" text not null, "exposed_at" timestamptz not null, constraint "experiment_exposure_pkey" primary key ("experiment_id", "member_id"));`,
    );
    this.addSql(
      `alter table "experiment_exposure" add constraint "experiment_exposure_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`,
    );
    this.addSql(`alter table "experiment_exposure" add constraint "experiment_exposure_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);

    this.addSql(
      `create table "experiment_event" ("id" bigserial primary key, "experiment_id" uuid not null, "member_id" uuid not null, "variant" text not null, "metric" text not null, "value" double precision not null, "created_at" timestamptz not null);`,
    );
    this.addSql(
      `alter table "experiment_event" add constraint "experiment_event_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`,
    );
    this.addSql(`alter table "experiment_event" add constraint "experiment_event_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);

    this.addSql(
      `create table "experiment_conversion" ("experiment_id" uuid not null, "metric" text not null, "member_id" uuid not null, "variant" text not null, "events" int not null, "value_sum" double precision not null, "first_at" timestamptz not null, "last_at" timestamptz not null, constraint "experiment_conversion_pkey" primary key ("experiment_id", "metric", "member_id"));`,
    );
    this.addSql(
      `alter table "experiment_conversion" add constraint "experiment_conversion_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`,
    );
    this.addSql(
      `alter table "experiment_conversion" add constraint "experiment_conversion_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`,
    );

    this.addSql(
      `create table "experiment_exposure_tally" ("experiment_id" uuid not null, "variant" text not null, "shard" smallint not null, "exposures" int not null, constraint "experiment_exposure_tally_pkey" primary key ("experiment_id", "variant", "shard"));`,
    );
    this.addSql(
      `alter table "experiment_exposure_tally" add constraint "experiment_exposure_tally_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`,
    );

    this.addSql(
      `create table "experiment_metric_tally" ("experiment_id" uuid not null, "metric" text not null, "variant" text not null, "shard" smallint not null, "members" int not null, "value_sum" double precision not null, constraint "experiment_metric_tally_pkey" primary key ("experiment_id", "metric", "variant", "shard"));`,
    );
    this.addSql(
      `alter table "experiment_metric_tally" add constraint "experiment_metric_tally_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`,
    );
  }
}
