import { SendQueueMetrics } from './send-queue.metrics.js';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HooksModule } from '../hooks/hooks.module.js';
import { MediaFile } from './entities/media-file.entity.js';
import { Message } from './entities/message.entity.js';
import { FilesController } from './files.controller.js';
import { FilesService } from './files.service.js';
import { MediaDownloaderService } from './media-downloader.service.js';
import { MessagesController } from './messages.controller.js';
import { MessagesService } from './messages.service.js';
import { SendQueueService } from './send-queue.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Message, MediaFile]), HooksModule],
  controllers: [MessagesController, FilesController],
  providers: [MessagesService, SendQueueService, SendQueueMetrics, MediaDownloaderService, FilesService],
  exports: [MessagesService, SendQueueService, MediaDownloaderService, FilesService],
})
export class MessagesModule {}
