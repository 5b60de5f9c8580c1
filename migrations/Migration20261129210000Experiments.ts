import { Migration } from '@mikro-orm/migrations';

/** A/B experiments: experiments, one exposure per member and experiment, metric events. */
export class Migration20261129210000Experiments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "experiment" ("id" uuid not null, "key" text not null, "name" text not null, "status" text check ("status" in ('DRAFT', 'RUNNING', 'STOPPED')) not null, "variants" jsonb not null, "primary_metric" text not null, "traffic_share" double precision not null, "created_at" timestamptz not null, "created_by" text not null, "started_at" timestamptz null, "stopped_at" timestamptz null, constraint "experiment_pkey" primary key ("id"), constraint experiment_traffic_share_check check ((traffic_share >= (0)::double precision) AND (traffic_share <= (1)::double precision)));`);
    this.addSql(`alter table "experiment" add constraint "experiment_key_unique" unique ("key");`);
    this.addSql(`create table "experiment_exposure" ("experiment_id" uuid not null, "member_id" uuid not null, "variant" text not null, "exposed_at" timestamptz not null, constraint "experiment_exposure_pkey" primary key ("experiment_id", "member_id"));`);
    this.addSql(`create index "experiment_exposure_variant_idx" on "experiment_exposure" ("experiment_id", "variant");`);
    this.addSql(`alter table "experiment_exposure" add constraint "experiment_exposure_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "experiment_exposure" add constraint "experiment_exposure_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`create table "experiment_event" ("id" bigserial primary key, "experiment_id" uuid not null, "member_id" uuid not null, "variant" text not null, "metric" text not null, "value" double precision not null, "created_at" timestamptz not null);`);
    // Results read only this index, already ordered as they group (variant, then member).
    this.addSql(`create index "experiment_event_results_idx" on "experiment_event" ("experiment_id", "metric", "variant", "member_id") include ("value");`);
    this.addSql(`alter table "experiment_event" add constraint "experiment_event_experiment_id_foreign" foreign key ("experiment_id") references "experiment" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "experiment_event" add constraint "experiment_event_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
  }
}
